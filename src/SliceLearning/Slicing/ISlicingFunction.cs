namespace SliceLearning.Slicing;

/// <summary>
/// A slicing function (SF): a named membership test that marks a critical subset of the data
/// (paper: Chen et al., 2019, section 2). SFs may be noisy; SRAM learns indicators from them.
/// </summary>
/// <typeparam name="T">The type of one data example.</typeparam>
public interface ISlicingFunction<in T>
{
    /// <summary>The slice name: unique in a <see cref="SliceSet{T}"/>, usable as a file or column name.</summary>
    string Name { get; }

    /// <summary>True when <paramref name="example"/> belongs to the slice. Must be thread-safe.</summary>
    bool IsMember(T example);
}

/// <summary>A slicing function backed by a lambda.</summary>
/// <typeparam name="T">The type of one data example.</typeparam>
public sealed class SlicingFunction<T> : ISlicingFunction<T>
{
    private readonly Func<T, bool> _predicate;

    /// <summary>Creates an SF from a name and a membership test.</summary>
    public SlicingFunction(string name, Func<T, bool> predicate)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(predicate);
        Name = name;
        _predicate = predicate;
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public bool IsMember(T example) => _predicate(example);

    internal Func<T, bool> Predicate => _predicate;

    /// <inheritdoc />
    public override string ToString() => Name;
}
