namespace SliceLearning.Modules;

/// <summary>
/// A backbone that declares the width d of the representation it produces: its forward maps a
/// batch of inputs to [B, d]. Any <c>Module&lt;Tensor, Tensor&gt;</c> can serve as a backbone
/// when d is given explicitly; modules that implement this interface let d be read off.
/// </summary>
public interface IBackbone
{
    /// <summary>The width d of the backbone's output representation.</summary>
    long OutputWidth { get; }
}
