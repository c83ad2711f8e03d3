namespace SliceLearning;

/// <summary>
/// Bad input data: an SF that threw, a label out of range, a width mismatch, a NaN feature.
/// The message names what is wrong; <see cref="SliceName"/> and <see cref="Row"/> carry it too.
/// </summary>
public sealed class SliceDataException : ArgumentException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong, naming the slice, row or option.</param>
    /// <param name="paramName">The argument that carried the bad data, if any.</param>
    /// <param name="sliceName">The slicing function involved, if any.</param>
    /// <param name="row">The zero-based row involved, if any.</param>
    /// <param name="innerException">The original failure, if any.</param>
    public SliceDataException(string message, string? paramName = null, string? sliceName = null, long? row = null, Exception? innerException = null)
        : base(message, paramName, innerException)
    {
        SliceName = sliceName;
        Row = row;
    }

    /// <summary>The slicing function involved, if any.</summary>
    public string? SliceName { get; }

    /// <summary>The zero-based row involved, if any.</summary>
    public long? Row { get; }
}
