using System.Buffers.Binary;
using System.IO.Compression;

namespace FashionMnistAcquisition;

/// <summary>Fashion-MNIST read from the Debian package dataset-fashion-mnist (gzip IDX files).</summary>
internal sealed class FashionMnist
{
    public const string DefaultDirectory = "/usr/share/datasets/fashion-mnist";
    public static readonly string[] ClassNames = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    private FashionMnist(float[] pixels, byte[] labels) { Pixels = pixels; Labels = labels; }

    /// <summary>Pixels scaled to [0, 1], n * 784, row-major.</summary>
    public float[] Pixels { get; }

    public byte[] Labels { get; }

    public int Count => Labels.Length;

    public static FashionMnist Load(string directory, string split)
    {
        string images = Path.Combine(directory, $"{split}-images-idx3-ubyte.gz");
        string labels = Path.Combine(directory, $"{split}-labels-idx1-ubyte.gz");
        if (!File.Exists(images) || !File.Exists(labels))
            throw new FileNotFoundException(
                $"Fashion-MNIST is not installed: {images} is missing. Run 'bash scripts/get-data.sh' from the repository root " +
                "(it installs the Debian package dataset-fashion-mnist), or pass --data <dir> with the four *-ubyte.gz files.", images);
        var imageBytes = ReadGzip(images);
        var labelBytes = ReadGzip(labels);
        if (BinaryPrimitives.ReadInt32BigEndian(imageBytes) != 0x803 || BinaryPrimitives.ReadInt32BigEndian(labelBytes) != 0x801)
            throw new InvalidDataException($"{images} or {labels} is not an IDX file of the expected type.");
        int n = BinaryPrimitives.ReadInt32BigEndian(imageBytes.AsSpan(4));
        if (BinaryPrimitives.ReadInt32BigEndian(labelBytes.AsSpan(4)) != n) throw new InvalidDataException("Image and label counts differ.");
        var pixels = new float[n * 784];
        var source = imageBytes.AsSpan(16, n * 784);
        for (int i = 0; i < pixels.Length; i++) pixels[i] = source[i] / 255f;
        return new FashionMnist(pixels, labelBytes.AsSpan(8, n).ToArray());
    }

    private static byte[] ReadGzip(string path)
    {
        using var stream = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        return memory.ToArray();
    }
}
