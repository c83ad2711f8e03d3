namespace SliceLearning.Models;

/// <summary>
/// What the models' shared <c>Create</c> and <c>Load</c> paths need of an options type: a check
/// against the model's slice names and a copy the model keeps.
/// </summary>
internal interface IModelOptions<TSelf> where TSelf : class, IModelOptions<TSelf>, new()
{
    /// <summary>Throws <see cref="ArgumentException"/> naming every invalid setting.</summary>
    void Validate(IReadOnlyList<string> sliceNames);

    /// <summary>A copy the model keeps, so later changes by the caller do not reach it.</summary>
    TSelf Clone();
}
