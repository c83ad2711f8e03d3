namespace SliceLearning.Slicing;

/// <summary>Entry point for building a <see cref="SliceSet{T}"/>.</summary>
public static class SliceSet
{
    /// <summary>Starts a builder for SFs over examples of type <typeparamref name="T"/>.</summary>
    public static SliceSetBuilder<T> For<T>() => new();
}

/// <summary>Collects slicing functions; <see cref="Build"/> validates them.</summary>
/// <typeparam name="T">The type of one data example.</typeparam>
public sealed class SliceSetBuilder<T>
{
    private readonly List<ISlicingFunction<T>> _functions = new();
    private bool _built;

    /// <summary>Adds an SF written as a lambda.</summary>
    public SliceSetBuilder<T> Add(string name, Func<T, bool> isMember) => Add(new SlicingFunction<T>(name, isMember));

    /// <summary>Adds an SF implemented as a class (for reuse across data sets).</summary>
    public SliceSetBuilder<T> Add(ISlicingFunction<T> function)
    {
        ArgumentNullException.ThrowIfNull(function);
        if (_built) throw new InvalidOperationException("This builder has already built its SliceSet; start a new one with SliceSet.For<T>().");
        _functions.Add(function);
        return this;
    }

    /// <summary>Adds an SF class with a parameterless constructor (for reuse across data sets).</summary>
    public SliceSetBuilder<T> Add<TFunction>() where TFunction : ISlicingFunction<T>, new() => Add(new TFunction());

    /// <summary>Adds several SFs, in order.</summary>
    public SliceSetBuilder<T> AddRange(IEnumerable<ISlicingFunction<T>> functions)
    {
        ArgumentNullException.ThrowIfNull(functions);
        foreach (var f in functions) Add(f);
        return this;
    }

    /// <summary>Validates the SFs and returns the immutable set.</summary>
    /// <exception cref="ArgumentException">No SFs, or a name that is empty, duplicated, reserved or not a valid file/column name.</exception>
    public SliceSet<T> Build()
    {
        _built = true;
        return new SliceSet<T>(_functions);
    }
}

/// <summary>
/// An immutable, validated list of k slicing functions. Applying it to data gives a
/// <see cref="SliceMatrix"/> with k + 1 columns, the base slice first.
/// </summary>
/// <typeparam name="T">The type of one data example.</typeparam>
public sealed class SliceSet<T> : IReadOnlyList<ISlicingFunction<T>>
{
    private readonly ISlicingFunction<T>[] _functions;

    internal SliceSet(IEnumerable<ISlicingFunction<T>> functions)
    {
        _functions = functions.ToArray();
        SliceNameRules.Validate(_functions.Select(f => f.Name).ToArray());
        SliceNames = new[] { SliceMatrix.BaseSliceName }.Concat(_functions.Select(f => f.Name)).ToArray();
    }

    /// <summary>Number of SFs, k.</summary>
    public int Count => _functions.Length;

    /// <summary>Matrix column names: the base slice, then each SF in order (k + 1 names).</summary>
    public IReadOnlyList<string> SliceNames { get; }

    /// <inheritdoc />
    public ISlicingFunction<T> this[int index] => _functions[index];

    /// <summary>
    /// Applies every SF to every example, in parallel, failing on the first SF that throws
    /// (a <see cref="SliceDataException"/> naming the SF and the row, the SF's exception inside).
    /// </summary>
    /// <param name="data">The examples; row i of the matrix is <c>data[i]</c>.</param>
    /// <param name="cancellationToken">Cancels the work (an <see cref="OperationCanceledException"/>).</param>
    /// <returns>An N x (k + 1) matrix, the base slice first.</returns>
    public SliceMatrix Apply(IReadOnlyList<T> data, CancellationToken cancellationToken = default) =>
        ApplyWithDiagnostics(data, null, null, cancellationToken).Matrix;

    /// <summary>Applies every SF to every example, in parallel, with options and progress.</summary>
    /// <param name="data">The examples; row i of the matrix is <c>data[i]</c>.</param>
    /// <param name="options">Error policy, parallelism and logging; null uses the defaults (fail on error, all cores).</param>
    /// <param name="progress">Receives rows done (about every 1% of the rows, and at the end); the count only grows from one report to the next.</param>
    /// <param name="cancellationToken">Cancels the work (an <see cref="OperationCanceledException"/>).</param>
    /// <returns>An N x (k + 1) matrix, the base slice first.</returns>
    /// <exception cref="SliceDataException">An SF threw and the policy is <see cref="SliceErrorPolicy.Fail"/>.</exception>
    public SliceMatrix Apply(IReadOnlyList<T> data, SliceApplyOptions? options, IProgress<SliceApplyProgress>? progress = null, CancellationToken cancellationToken = default) =>
        ApplyWithDiagnostics(data, options, progress, cancellationToken).Matrix;

    /// <summary>
    /// Like <see cref="Apply(IReadOnlyList{T}, SliceApplyOptions?, IProgress{SliceApplyProgress}?, CancellationToken)"/>,
    /// and also returns per-SF failure counts and the first failures (useful with
    /// <see cref="SliceErrorPolicy.TreatAsNonMember"/>).
    /// </summary>
    /// <remarks>
    /// SFs must be thread-safe (they run on several threads at once) and should be pure: each SF is
    /// called once per row, except in a 64-row block where some SF threw, which is evaluated again
    /// with every call guarded.
    /// </remarks>
    /// <exception cref="SliceDataException">An SF threw and the policy is <see cref="SliceErrorPolicy.Fail"/>.</exception>
    public SliceApplyResult ApplyWithDiagnostics(IReadOnlyList<T> data, SliceApplyOptions? options = null, IProgress<SliceApplyProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        options ??= new SliceApplyOptions();
        options.Validate();
        return SliceApplier<T>.Apply(_functions, SliceNames, data, options, progress, cancellationToken);
    }

    /// <inheritdoc />
    public IEnumerator<ISlicingFunction<T>> GetEnumerator() => ((IEnumerable<ISlicingFunction<T>>)_functions).GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>The rules a slice name must follow.</summary>
internal static class SliceNameRules
{
    /// <summary>
    /// Model slice names: the base slice first (prepended when missing), the SF names checked by
    /// <see cref="Validate"/>.
    /// </summary>
    public static string[] WithBase(IReadOnlyList<string> sliceNames)
    {
        ArgumentNullException.ThrowIfNull(sliceNames);
        var functions = sliceNames.Count > 0 && sliceNames[0] == SliceMatrix.BaseSliceName ? sliceNames.Skip(1).ToArray() : sliceNames.ToArray();
        Validate(functions);
        return new[] { SliceMatrix.BaseSliceName }.Concat(functions).ToArray();
    }

    /// <summary>
    /// The columns of a <see cref="SliceMatrix"/> built from user data: the base slice first, then
    /// names that follow the same rules as SF names (a matrix is written to CSV and matched to models by them).
    /// </summary>
    public static void ValidateMatrixColumns(IReadOnlyList<string> sliceNames, string paramName)
    {
        ArgumentNullException.ThrowIfNull(sliceNames, paramName);
        if (sliceNames.Count == 0 || sliceNames[0] != SliceMatrix.BaseSliceName)
            throw new ArgumentException(
                $"The first slice name must be the base slice '{SliceMatrix.BaseSliceName}'; got {(sliceNames.Count == 0 ? "no names" : $"'{sliceNames[0]}'")}.", paramName);
        if (sliceNames.Count > 1) Validate(sliceNames.Skip(1).ToArray(), paramName);
    }

    public static void Validate(IReadOnlyList<string> names, string paramName = "names")
    {
        if (names.Count == 0)
            throw new ArgumentException("A SliceSet needs at least one slicing function; add one with .Add(name, predicate).", paramName);
        var problems = new List<string>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (int i = 0; i < names.Count; i++)
        {
            string name = names[i];
            if (string.IsNullOrWhiteSpace(name)) { problems.Add($"SF #{i} has an empty name."); continue; }
            if (string.Equals(name, SliceMatrix.BaseSliceName, StringComparison.OrdinalIgnoreCase))
                problems.Add($"SF #{i} is named '{name}', which is reserved for the base slice (all examples).");
            if (!seen.Add(name))
                problems.Add($"SF #{i} is named '{name}', like an earlier SF (names are compared ignoring case).");
            if (!IsSafeName(name))
                problems.Add($"SF #{i} is named '{name}'; use only letters, digits, '_', '-' and '.', at most 64 characters, not starting with '.' or '-', so it works as a file and column name.");
        }
        if (problems.Count > 0)
            throw new ArgumentException("Invalid slicing functions:" + Environment.NewLine + string.Join(Environment.NewLine, problems.Select(p => "- " + p)), paramName);
    }

    private static bool IsSafeName(string name) =>
        name.Length <= 64 && name[0] != '.' && name[0] != '-'
        && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.');
}
