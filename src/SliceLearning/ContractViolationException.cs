namespace SliceLearning;

/// <summary>
/// Code plugged into the library (a model factory, a data acquirer, a loss evaluator) broke its
/// contract: it returned null, the wrong number of values, or values it promised not to. Not a
/// data error: fix the plugged-in code. The message names the plugin and what it returned.
/// </summary>
public sealed class ContractViolationException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">Which plugin broke which rule, with the value it returned.</param>
    /// <param name="innerException">The original failure, if any.</param>
    public ContractViolationException(string message, Exception? innerException = null) : base(message, innerException) { }
}
