namespace SliceLearning.Distributed;

/// <summary>
/// MPI cannot be used by this process: the MPICH library is missing, or the process was launched
/// by an incompatible MPI (Open MPI). The message names what to install or how to launch instead.
/// </summary>
public sealed class MpiUnavailableException : Exception
{
    /// <summary>Creates the exception with a message that says what to do.</summary>
    public MpiUnavailableException(string message, Exception? inner = null) : base(message, inner) { }
}
