using SkiaSharp;

namespace SceneSlices.Scenes;

/// <summary>
/// Draws seeded street scenes with SkiaSharp: sky, buildings, sidewalk and road; objects of the
/// paper's detector classes; maybe a cyclist (the label); day, dusk or night lighting; occluding
/// trees, clutter and pixel noise. Scene <c>i</c> of seed <c>s</c> is always the same image.
/// </summary>
public sealed class SceneGenerator
{
    private const float Horizon = 38f;
    private const float SidewalkBottom = 50f;
    private static readonly SKColor[] Jerseys =
    {
        new(230, 40, 40), new(250, 200, 20), new(40, 200, 80), new(30, 120, 240), new(250, 120, 0), new(220, 60, 200), new(0, 210, 210),
    };
    private static readonly SKColor[] CarColors =
    {
        new(200, 30, 30), new(30, 60, 160), new(220, 220, 220), new(40, 40, 40), new(120, 120, 130), new(20, 110, 60), new(240, 200, 60),
    };
    private static readonly SKColor[] BusColors = { new(250, 190, 20), new(200, 40, 40), new(40, 90, 190), new(240, 240, 240) };

    private readonly SceneOptions _options;
    private readonly double[] _lightingCdf;

    /// <summary>Creates a generator; the options are validated.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public SceneGenerator(SceneOptions? options = null)
    {
        _options = options ?? new SceneOptions();
        _options.Validate();
        double total = _options.LightingWeights.Sum();
        _lightingCdf = new[] { _options.LightingWeights[0] / total, (_options.LightingWeights[0] + _options.LightingWeights[1]) / total, 1.0 };
    }

    /// <summary>The options.</summary>
    public SceneOptions Options => _options;

    /// <summary>Scenes <paramref name="first"/> .. <paramref name="first"/> + <paramref name="count"/> - 1 of stream <paramref name="seed"/>.</summary>
    public IReadOnlyList<Scene> GenerateMany(int count, int seed, int first = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var scenes = new Scene[count];
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = 2 }, i => scenes[i] = Generate(seed, first + i));
        return scenes;
    }

    /// <summary>Scene <paramref name="index"/> of stream <paramref name="seed"/>.</summary>
    public Scene Generate(int seed, int index)
    {
        var rng = new Random(SeedMix.Of(seed, index, 17));
        var o = _options;
        // Semantics first, in a fixed order, so the statistics do not depend on drawing.
        double u = rng.NextDouble();
        var lighting = u < _lightingCdf[0] ? Lighting.Day : u < _lightingCdf[1] ? Lighting.Dusk : Lighting.Night;
        bool cyclist = rng.NextDouble() < o.CyclistRate;
        var placed = new HashSet<SceneObject>();
        foreach (var obj in Enum.GetValues<SceneObject>())
            if (rng.NextDouble() < o.ObjectRates[obj]) placed.Add(obj);
        bool small = cyclist && lighting == Lighting.Night && rng.NextDouble() < o.SmallCyclistAtNight;
        bool behindBus = cyclist && placed.Contains(SceneObject.Bus) && rng.NextDouble() < o.CyclistBehindBus;
        bool occluded = cyclist && rng.NextDouble() < o.OcclusionRate;
        bool parkedAtBench = placed.Contains(SceneObject.Bench) && rng.NextDouble() < o.ParkedBicycleAtBench;
        var visible = new HashSet<SceneObject>(placed);
        if (cyclist || parkedAtBench) { visible.Add(SceneObject.Bicycle); visible.Add(SceneObject.Person); }

        var items = new List<(float Depth, Action<SKCanvas> Draw)>();
        var lights = new List<(float X, float Y, float R)>();
        float Scale(float y) => 0.8f + (y - Horizon) / (98f - Horizon) * 1.0f;
        float R(float a, float b) => a + (float)rng.NextDouble() * (b - a);
        T Pick<T>(T[] a) => a[rng.Next(a.Length)];
        bool Flip() => rng.Next(2) == 0;

        // Sidewalk objects.
        float benchX = R(12, 88);
        foreach (var obj in new[] { SceneObject.Bench, SceneObject.TrafficLight, SceneObject.FireHydrant, SceneObject.StopSign, SceneObject.Person, SceneObject.Bicycle })
        {
            if (!placed.Contains(obj)) continue;
            float y = R(42, SidewalkBottom), x = obj == SceneObject.Bench ? benchX : R(6, 94), s = Scale(y);
            switch (obj)
            {
                case SceneObject.Bench: items.Add((y, c => Bench(c, x, y, s))); break;
                case SceneObject.TrafficLight: { int lit = rng.Next(3); items.Add((y, c => TrafficLight(c, x, y, s, lit))); lights.Add((x, y - 30 * s + 1.2f * s + 2.6f * s * lit, 2.2f * s)); break; }
                case SceneObject.FireHydrant: items.Add((y, c => Hydrant(c, x, y, s))); break;
                case SceneObject.StopSign: items.Add((y, c => StopSign(c, x, y, s))); break;
                case SceneObject.Person: { var shirt = Pick(CarColors); items.Add((y, c => Person(c, x, y, s, shirt))); break; }
                default: { var col = Pick(Jerseys); bool f = Flip(); items.Add((y, c => Bicycle(c, x, y, s, col, f))); break; }
            }
        }
        if (parkedAtBench)
        {
            float y = R(44, SidewalkBottom), s = Scale(y), x = Math.Clamp(benchX + (Flip() ? 1 : -1) * R(9, 13) * s, 5, 95);
            var col = Pick(Jerseys); var shirt = Pick(Jerseys); bool f = Flip();
            items.Add((y + 0.1f, c => Bicycle(c, x, y, s * 1.15f, col, f)));
            items.Add((y + 0.2f, c => Person(c, x + (f ? -2.5f : 2.5f) * s, y, s * 1.15f, shirt)));
        }

        // Road vehicles.
        float busX = 0, busY = 0, busS = 0;
        foreach (var obj in new[] { SceneObject.Bus, SceneObject.Truck, SceneObject.Car })
        {
            if (!placed.Contains(obj)) continue;
            float y = R(58, 96), s = Scale(y), x = R(15, 85);
            bool right = Flip();
            switch (obj)
            {
                case SceneObject.Bus: { var col = Pick(BusColors); (busX, busY, busS) = (x, y, s); items.Add((y, c => Bus(c, x, y, s, col))); break; }
                case SceneObject.Truck: { var col = Pick(CarColors); items.Add((y, c => Truck(c, x, y, s, col, right))); break; }
                default: { var col = Pick(CarColors); items.Add((y, c => Car(c, x, y, s, col))); lights.Add((x + (right ? 10 : -10) * s, y - 4.5f * s, 1.6f * s)); break; }
            }
        }

        // The cyclist.
        if (cyclist)
        {
            float y = behindBus ? busY - R(1, 3) : R(58, 96);
            float s = Scale(y) * R((float)o.CyclistMinScale, (float)o.CyclistMaxScale) * (small ? (float)o.SmallScale : 1f);
            float x = behindBus ? busX + (Flip() ? 1 : -1) * (20 * busS - R(0, 4) * s) : R(10, 90);
            var jersey = Pick(Jerseys); var bike = Pick(CarColors); bool f = Flip();
            items.Add((y, c => Cyclist(c, x, y, s, jersey, bike, f)));
            if (occluded)
            {
                float ty = y + 0.5f, tx = x + (Flip() ? 1 : -1) * R(0, 4) * s;
                items.Add((ty, c => Tree(c, tx, ty, s)));
            }
        }

        // Clutter: trees and lamps on the sidewalk (not detector classes).
        int trees = (int)Math.Round(o.Clutter * rng.Next(0, 4));
        for (int t = 0; t < trees; t++) { float y = R(41, 48), x = R(3, 97), s = Scale(y); items.Add((y - 0.01f, c => Tree(c, x, y, s))); }
        int lamps = (int)Math.Round(o.Clutter * rng.Next(1, 4));
        for (int t = 0; t < lamps; t++) { float y = R(41, 48), x = R(3, 97), s = Scale(y); items.Add((y - 0.02f, c => Lamp(c, x, y, s))); lights.Add((x + 2.5f * s, y - 24 * s, 3f * s)); }
        int buildings = 3 + (int)Math.Round(o.Clutter * 6);
        var buildingSpecs = Enumerable.Range(0, buildings).Select(_ => (X: R(-5, 95), W: R(8, 22), H: R(8, 30), Col: new SKColor((byte)rng.Next(90, 200), (byte)rng.Next(80, 180), (byte)rng.Next(70, 170)))).ToArray();
        var skyTop = lighting switch { Lighting.Day => new SKColor(110, 170, 235), Lighting.Dusk => new SKColor(70, 60, 130), _ => new SKColor(8, 10, 30) };
        var skyBottom = lighting switch { Lighting.Day => new SKColor(190, 220, 245), Lighting.Dusk => new SKColor(250, 140, 70), _ => new SKColor(25, 30, 60) };
        double noiseSeed = rng.NextDouble();

        int size = o.ImageSize;
        var info = new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Premul);
        using var bitmap = new SKBitmap(info);
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Scale(size / 100f);
            using (var sky = new SKPaint { Shader = SKShader.CreateLinearGradient(new SKPoint(0, 0), new SKPoint(0, Horizon), new[] { skyTop, skyBottom }, SKShaderTileMode.Clamp) })
                canvas.DrawRect(0, 0, 100, Horizon + 1, sky);
            foreach (var b in buildingSpecs)
            {
                Fill(canvas, b.Col, b.X, Horizon - b.H, b.W, b.H);
                var window = lighting == Lighting.Night ? new SKColor(255, 220, 120) : new SKColor(60, 70, 90);
                for (float wy = Horizon - b.H + 2; wy < Horizon - 3; wy += 5)
                    for (float wx = b.X + 1.5f; wx < b.X + b.W - 2; wx += 4)
                        Fill(canvas, window, wx, wy, 1.6f, 2f);
            }
            Fill(canvas, new SKColor(165, 160, 150), 0, Horizon, 100, SidewalkBottom - Horizon);
            Fill(canvas, new SKColor(85, 85, 90), 0, SidewalkBottom, 100, 100 - SidewalkBottom);
            Fill(canvas, new SKColor(210, 210, 200), 0, SidewalkBottom, 100, 0.8f);
            for (float dx = 2; dx < 100; dx += 14) Fill(canvas, new SKColor(230, 230, 210), dx, 74, 7, 1.2f);
            foreach (var item in items.OrderBy(i => i.Depth)) item.Draw(canvas);
            if (lighting != Lighting.Day)
            {
                using var dark = new SKPaint { Color = lighting == Lighting.Dusk ? new SKColor(40, 10, 0, 95) : new SKColor(0, 0, 10, 175) };
                canvas.DrawRect(0, 0, 100, 100, dark);
            }
            if (lighting == Lighting.Night)
                foreach (var (lx, ly, lr) in lights)
                {
                    using var glow = new SKPaint
                    {
                        IsAntialias = true,
                        Shader = SKShader.CreateRadialGradient(new SKPoint(lx, ly), lr * 2.5f, new[] { new SKColor(255, 240, 180, 230), new SKColor(255, 220, 120, 0) }, SKShaderTileMode.Clamp),
                    };
                    canvas.DrawCircle(lx, ly, lr * 2.5f, glow);
                }
        }

        var rgba = bitmap.GetPixelSpan();
        var pixels = new byte[size * size * 3];
        var noise = new Random(SeedMix.Of(seed, index, (long)(noiseSeed * int.MaxValue)));
        for (int p = 0, q = 0; p < pixels.Length; p += 3, q += 4)
            for (int ch = 0; ch < 3; ch++)
            {
                double n = o.PixelNoise == 0 ? 0 : o.PixelNoise * Gaussian(noise);
                pixels[p + ch] = (byte)Math.Clamp(Math.Round(rgba[q + ch] + n), 0, 255);
            }
        return new Scene(index, size, pixels, cyclist, lighting, placed, visible, small, behindBus, occluded, parkedAtBench);
    }

    private static double Gaussian(Random r) => Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble());

    // ------------------------------------------------------------------ drawing (unit square 0..100)
    private static SKPaint Paint(SKColor c, float stroke = 0) => new() { Color = c, IsAntialias = true, Style = stroke > 0 ? SKPaintStyle.Stroke : SKPaintStyle.Fill, StrokeWidth = stroke, StrokeCap = SKStrokeCap.Round };

    private static void Fill(SKCanvas c, SKColor col, float x, float y, float w, float h) { using var p = Paint(col); c.DrawRect(x, y, w, h, p); }

    private static void Line(SKCanvas c, SKColor col, float width, float x0, float y0, float x1, float y1) { using var p = Paint(col, width); c.DrawLine(x0, y0, x1, y1, p); }

    private static void Circle(SKCanvas c, SKColor col, float x, float y, float r, float stroke = 0) { using var p = Paint(col, stroke); c.DrawCircle(x, y, r, p); }

    private static void Car(SKCanvas c, float x, float y, float s, SKColor col)
    {
        using var body = Paint(col);
        c.DrawRoundRect(x - 11 * s, y - 7 * s, 22 * s, 5 * s, 1.5f * s, 1.5f * s, body);
        c.DrawRoundRect(x - 6 * s, y - 11 * s, 12 * s, 4.5f * s, 1.5f * s, 1.5f * s, body);
        Fill(c, new SKColor(150, 190, 220), x - 5 * s, y - 10.3f * s, 4.5f * s, 3f * s);
        Fill(c, new SKColor(150, 190, 220), x + 0.5f * s, y - 10.3f * s, 4.5f * s, 3f * s);
        Circle(c, SKColors.Black, x - 6.5f * s, y - 2 * s, 2 * s);
        Circle(c, SKColors.Black, x + 6.5f * s, y - 2 * s, 2 * s);
    }

    private static void Truck(SKCanvas c, float x, float y, float s, SKColor col, bool right)
    {
        float d = right ? 1 : -1;
        Fill(c, new SKColor(225, 225, 220), x - 10 * s - d * 4 * s, y - 17 * s, 20 * s, 13 * s);
        Fill(c, col, x + d * 8 * s - 4 * s, y - 12 * s, 8 * s, 8.5f * s);
        Fill(c, new SKColor(150, 190, 220), x + d * 8 * s - 2.5f * s, y - 11 * s, 5 * s, 3 * s);
        Fill(c, new SKColor(60, 60, 60), x - 15 * s, y - 4.5f * s, 28 * s, 1.5f * s);
        foreach (float wx in new[] { -10f, -5f, 8f }) Circle(c, SKColors.Black, x + d * wx * s, y - 2 * s, 2.2f * s);
    }

    private static void Bus(SKCanvas c, float x, float y, float s, SKColor col)
    {
        using var body = Paint(col);
        c.DrawRoundRect(x - 20 * s, y - 19 * s, 40 * s, 16.5f * s, 2 * s, 2 * s, body);
        Fill(c, new SKColor(40, 50, 70), x - 18.5f * s, y - 16.5f * s, 37 * s, 5.5f * s);
        for (float wx = -14; wx < 19; wx += 5) Fill(c, col, x + wx * s, y - 16.5f * s, 0.8f * s, 5.5f * s);
        Fill(c, new SKColor(40, 50, 70), x + 14 * s, y - 10 * s, 3 * s, 6.5f * s);
        Circle(c, SKColors.Black, x - 12 * s, y - 2.5f * s, 2.6f * s);
        Circle(c, SKColors.Black, x + 12 * s, y - 2.5f * s, 2.6f * s);
    }

    private static void Bench(SKCanvas c, float x, float y, float s)
    {
        var wood = new SKColor(130, 80, 40);
        Fill(c, wood, x - 7 * s, y - 4.5f * s, 14 * s, 1.4f * s);
        Fill(c, wood, x - 7 * s, y - 7.5f * s, 14 * s, 1.4f * s);
        Line(c, new SKColor(50, 50, 50), 0.8f * s, x - 6 * s, y - 7.5f * s, x - 6 * s, y);
        Line(c, new SKColor(50, 50, 50), 0.8f * s, x + 6 * s, y - 7.5f * s, x + 6 * s, y);
    }

    private static void Person(SKCanvas c, float x, float y, float s, SKColor shirt)
    {
        var trousers = new SKColor(40, 40, 70);
        Line(c, trousers, 1.3f * s, x - 0.7f * s, y, x - 0.5f * s, y - 6 * s);
        Line(c, trousers, 1.3f * s, x + 0.7f * s, y, x + 0.5f * s, y - 6 * s);
        Fill(c, shirt, x - 1.7f * s, y - 11.5f * s, 3.4f * s, 5.8f * s);
        Line(c, shirt, 1f * s, x - 1.8f * s, y - 11 * s, x - 2.3f * s, y - 6.5f * s);
        Line(c, shirt, 1f * s, x + 1.8f * s, y - 11 * s, x + 2.3f * s, y - 6.5f * s);
        Circle(c, new SKColor(230, 185, 150), x, y - 13 * s, 1.6f * s);
    }

    private static void TrafficLight(SKCanvas c, float x, float y, float s, int lit)
    {
        Line(c, new SKColor(70, 70, 70), 0.9f * s, x, y, x, y - 22 * s);
        Fill(c, new SKColor(25, 25, 25), x - 1.8f * s, y - 30 * s, 3.6f * s, 8.5f * s);
        var on = new[] { new SKColor(255, 40, 30), new SKColor(255, 200, 0), new SKColor(40, 255, 90) };
        for (int k = 0; k < 3; k++) Circle(c, k == lit ? on[k] : new SKColor(60, 60, 60), x, y - 28.8f * s + 2.6f * s * k, 0.95f * s);
    }

    private static void Hydrant(SKCanvas c, float x, float y, float s)
    {
        var red = new SKColor(210, 30, 30);
        Fill(c, red, x - 1.4f * s, y - 5 * s, 2.8f * s, 5 * s);
        Fill(c, red, x - 2.2f * s, y - 3.8f * s, 4.4f * s, 1.1f * s);
        Circle(c, red, x, y - 5 * s, 1.4f * s);
    }

    private static void StopSign(SKCanvas c, float x, float y, float s)
    {
        Line(c, new SKColor(120, 120, 120), 0.7f * s, x, y, x, y - 13 * s);
        using var path = new SKPath();
        float r = 3.4f * s, cy = y - 16 * s;
        for (int k = 0; k < 8; k++)
        {
            double a = Math.PI / 8 + k * Math.PI / 4;
            var pt = new SKPoint(x + r * (float)Math.Cos(a), cy + r * (float)Math.Sin(a));
            if (k == 0) path.MoveTo(pt); else path.LineTo(pt);
        }
        path.Close();
        using (var red = Paint(new SKColor(200, 20, 20))) c.DrawPath(path, red);
        Fill(c, SKColors.White, x - 2.2f * s, cy - 0.5f * s, 4.4f * s, 1f * s);
    }

    private static void Bicycle(SKCanvas c, float x, float y, float s, SKColor frame, bool flip)
    {
        float d = flip ? -1 : 1;
        var tyre = new SKColor(20, 20, 20);
        Circle(c, tyre, x - d * 3.8f * s, y - 2.8f * s, 2.6f * s, 0.7f * s);
        Circle(c, tyre, x + d * 3.8f * s, y - 2.8f * s, 2.6f * s, 0.7f * s);
        float w = 0.8f * s;
        Line(c, frame, w, x - d * 3.8f * s, y - 2.8f * s, x - d * 1 * s, y - 6.8f * s);
        Line(c, frame, w, x - d * 1 * s, y - 6.8f * s, x + d * 2.8f * s, y - 6.8f * s);
        Line(c, frame, w, x + d * 2.8f * s, y - 6.8f * s, x + d * 3.8f * s, y - 2.8f * s);
        Line(c, frame, w, x - d * 1 * s, y - 6.8f * s, x, y - 2.8f * s);
        Line(c, frame, w, x - d * 3.8f * s, y - 2.8f * s, x, y - 2.8f * s);
        Line(c, frame, w, x + d * 2.8f * s, y - 6.8f * s, x + d * 3 * s, y - 8 * s);
    }

    private static void Cyclist(SKCanvas c, float x, float y, float s, SKColor jersey, SKColor frame, bool flip)
    {
        Bicycle(c, x, y, s, frame, flip);
        float d = flip ? -1 : 1;
        var legs = new SKColor(30, 30, 40);
        Line(c, legs, 1.3f * s, x - d * 1 * s, y - 7.3f * s, x + d * 0.8f * s, y - 4.5f * s);
        Line(c, legs, 1.3f * s, x + d * 0.8f * s, y - 4.5f * s, x, y - 2.6f * s);
        Line(c, jersey, 2.6f * s, x - d * 1 * s, y - 7.8f * s, x + d * 1.3f * s, y - 12 * s);
        Line(c, jersey, 1f * s, x + d * 1.3f * s, y - 11.5f * s, x + d * 3 * s, y - 8.2f * s);
        Circle(c, new SKColor(230, 185, 150), x + d * 2.1f * s, y - 13.8f * s, 1.5f * s);
        using var helmet = Paint(jersey);
        c.DrawArc(new SKRect(x + d * 2.1f * s - 1.7f * s, y - 15.5f * s, x + d * 2.1f * s + 1.7f * s, y - 12.3f * s), 180, 180, true, helmet);
    }

    private static void Tree(SKCanvas c, float x, float y, float s)
    {
        Fill(c, new SKColor(90, 60, 30), x - 1.2f * s, y - 12 * s, 2.4f * s, 12 * s);
        Circle(c, new SKColor(40, 120, 40), x, y - 15 * s, 5.5f * s);
        Circle(c, new SKColor(55, 140, 50), x + 2.5f * s, y - 12.5f * s, 4 * s);
    }

    private static void Lamp(SKCanvas c, float x, float y, float s)
    {
        Line(c, new SKColor(60, 60, 65), 0.8f * s, x, y, x, y - 24 * s);
        Line(c, new SKColor(60, 60, 65), 0.8f * s, x, y - 24 * s, x + 2.5f * s, y - 24 * s);
        Circle(c, new SKColor(240, 240, 200), x + 2.5f * s, y - 23.5f * s, 0.9f * s);
    }
}
