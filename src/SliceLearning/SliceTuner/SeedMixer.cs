namespace SliceLearning.SliceTuner;

/// <summary>Deterministic seed derivation (HashCode is randomized per process, so it cannot be used).</summary>
internal static class SeedMixer
{
    public static int Mix(params int[] values)
    {
        ulong h = 0x9E3779B97F4A7C15UL;
        foreach (int v in values)
        {
            h ^= (ulong)(uint)v + 0x9E3779B97F4A7C15UL + (h << 6) + (h >> 2);
            h = SplitMix(h);
        }
        return (int)(h & 0x7fffffff);
    }

    private static ulong SplitMix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
