using System.Globalization;
using System.Text;
using SliceLearning.Data.Tabular;
using SliceLearning.Evaluation;
using SliceLearning.Slicing;

namespace SliceLearning.Discovery;

/// <summary>
/// A categorical attribute of the examples that slice discovery may condition on, with the C#
/// expression that reads it in generated SF code (the lambda parameter is <c>r</c>).
/// </summary>
/// <typeparam name="T">The example type.</typeparam>
/// <param name="Name">The attribute's name (used in slice names).</param>
/// <param name="Value">Reads the attribute's value of an example; null means missing (never matched).</param>
/// <param name="AccessCode">C# that reads the value from <c>r</c> in pasted SF code, e.g. <c>r["SEX"]</c> or <c>r.Sex</c>.</param>
public sealed record SliceAttribute<T>(string Name, Func<T, string?> Value, string AccessCode);

/// <summary>Factories of <see cref="SliceAttribute{T}"/>.</summary>
public static class SliceAttribute
{
    /// <summary>A column of a <see cref="TabularTable"/> (generated code reads <c>r["COLUMN"]</c>).</summary>
    public static SliceAttribute<TabularRow> Column(string column)
    {
        ArgumentException.ThrowIfNullOrEmpty(column);
        return new SliceAttribute<TabularRow>(column, r => r[column], $"r[{CSharpString(column)}]");
    }

    /// <summary>Every column of <paramref name="table"/> except <paramref name="except"/> (e.g. the label).</summary>
    public static IReadOnlyList<SliceAttribute<TabularRow>> Columns(TabularTable table, params string[] except)
    {
        ArgumentNullException.ThrowIfNull(table);
        return table.Columns.Where(c => !except.Contains(c, StringComparer.Ordinal)).Select(Column).ToArray();
    }

    /// <summary>An attribute read by a delegate; generated code reads <c>r.{name}</c> unless <paramref name="accessCode"/> is given.</summary>
    public static SliceAttribute<T> Create<T>(string name, Func<T, string?> value, string? accessCode = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(value);
        return new SliceAttribute<T>(name, value, accessCode ?? "r." + name);
    }

    internal static string CSharpString(string s)
    {
        var b = new StringBuilder("\"");
        foreach (char c in s)
        {
            b.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ when char.IsControl(c) => "\\u" + ((int)c).ToString("x4", CultureInfo.InvariantCulture),
                _ => c.ToString(),
            });
        }
        return b.Append('"').ToString();
    }
}

/// <summary>One condition of a candidate slice: attribute == value.</summary>
/// <param name="Attribute">The attribute's name.</param>
/// <param name="Value">The value it must have.</param>
public readonly record struct SliceCondition(string Attribute, string Value)
{
    /// <inheritdoc />
    public override string ToString() => $"{Attribute} = {Value}";
}

/// <summary>How discovered slices are ordered.</summary>
public enum DiscoveryRanking
{
    /// <summary>By the lower bound of the slice's error-rate interval minus the overall error rate: a large, well-supported gap first (default).</summary>
    GapLowerBound,

    /// <summary>By the error-rate gap alone (small slices with extreme rates first).</summary>
    Gap,

    /// <summary>By the adjusted p-value (most significant first).</summary>
    PValue,
}

/// <summary>Options of <see cref="SliceDiscovery.Discover"/>.</summary>
/// <remarks>
/// Defaults: <see cref="MaxConditions"/> 2, <see cref="MinSupport"/> 30, <see cref="Alpha"/> 0.05,
/// <see cref="Correction"/> Benjamini-Hochberg, <see cref="ConfidenceLevel"/> 0.95,
/// <see cref="MaxResults"/> 10, <see cref="MinGapImprovement"/> 0.02, <see cref="Ranking"/> gap lower bound,
/// <see cref="SignificantOnly"/> false.
/// </remarks>
public sealed class SliceDiscoveryOptions
{
    /// <summary>Most conditions in one candidate (1 = single attribute values; 2 = pairs; at most 3).</summary>
    /// <value>The default value is 2.</value>
    public int MaxConditions { get; set; } = 2;

    /// <summary>Fewest member rows a candidate needs to be tested and reported.</summary>
    /// <value>The default value is 30.</value>
    public int MinSupport { get; set; } = 30;

    /// <summary>Significance level of the corrected one-sided test "error rate in the slice &gt; error rate outside it".</summary>
    /// <value>The default value is 0.05.</value>
    public double Alpha { get; set; } = 0.05;

    /// <summary>Multiple-testing correction over every tested candidate.</summary>
    /// <value>The default value is <see cref="MultipleTestingCorrection.BenjaminiHochberg"/>.</value>
    public MultipleTestingCorrection Correction { get; set; } = MultipleTestingCorrection.BenjaminiHochberg;

    /// <summary>Two-sided level of the Wilson intervals of the error rates.</summary>
    /// <value>The default value is 0.95.</value>
    public double ConfidenceLevel { get; set; } = 0.95;

    /// <summary>Most candidates returned.</summary>
    /// <value>The default value is 10.</value>
    public int MaxResults { get; set; } = 10;

    /// <summary>
    /// A conjunction is kept only when its error-rate gap exceeds the gap of each slice with one
    /// condition fewer by at least this much (so "A and B" is not reported when "A" explains it).
    /// </summary>
    /// <value>The default value is 0.02.</value>
    public double MinGapImprovement { get; set; } = 0.02;

    /// <summary>How candidates are ordered (significant ones always come before the others).</summary>
    /// <value>The default value is <see cref="DiscoveryRanking.GapLowerBound"/>.</value>
    public DiscoveryRanking Ranking { get; set; } = DiscoveryRanking.GapLowerBound;

    /// <summary>When true, only candidates significant after correction are returned.</summary>
    /// <value>The default value is false.</value>
    public bool SignificantOnly { get; set; }

    /// <summary>Checks every option.</summary>
    /// <exception cref="ArgumentException">Lists every invalid option with its value.</exception>
    public void Validate()
    {
        var problems = new List<string>();
        if (MaxConditions is < 1 or > 3) problems.Add($"{nameof(MaxConditions)} must be 1, 2 or 3. Got {MaxConditions}.");
        if (MinSupport < 1) problems.Add(string.Create(CultureInfo.InvariantCulture, $"{nameof(MinSupport)} must be at least 1. Got {MinSupport}."));
        if (!(Alpha > 0 && Alpha < 1)) problems.Add($"{nameof(Alpha)} must be in (0, 1). Got {Alpha}.");
        if (!Enum.IsDefined(Correction)) problems.Add($"{nameof(Correction)} {Correction} is not defined.");
        if (!(ConfidenceLevel > 0 && ConfidenceLevel < 1)) problems.Add(string.Create(CultureInfo.InvariantCulture, $"{nameof(ConfidenceLevel)} must be in (0, 1). Got {ConfidenceLevel}."));
        if (MaxResults < 1) problems.Add($"{nameof(MaxResults)} must be at least 1. Got {MaxResults}.");
        if (!(MinGapImprovement >= 0)) problems.Add(string.Create(CultureInfo.InvariantCulture, $"{nameof(MinGapImprovement)} must be 0 or more. Got {MinGapImprovement}."));
        if (!Enum.IsDefined(Ranking)) problems.Add($"{nameof(Ranking)} {Ranking} is not defined.");
        if (problems.Count > 0)
            throw new ArgumentException($"Invalid {nameof(SliceDiscoveryOptions)}:" + Environment.NewLine + string.Join(Environment.NewLine, problems.Select(p => "- " + p)));
    }

    /// <summary>A copy.</summary>
    public SliceDiscoveryOptions Clone() => (SliceDiscoveryOptions)MemberwiseClone();
}

/// <summary>
/// A candidate slice found by <see cref="SliceDiscovery"/>: a conjunction of attribute values on
/// which the model errs more often than overall.
/// </summary>
/// <typeparam name="T">The example type.</typeparam>
public sealed class CandidateSlice<T>
{
    private readonly SliceAttribute<T>[] _attributes;

    internal CandidateSlice(string name, SliceCondition[] conditions, SliceAttribute<T>[] attributes, int support, int errors,
        ConfidenceInterval errorInterval, double overallErrorRate, double pValue, double adjustedPValue, bool significant)
    {
        Name = name;
        Conditions = conditions;
        _attributes = attributes;
        Support = support;
        Errors = errors;
        ErrorInterval = errorInterval;
        OverallErrorRate = overallErrorRate;
        PValue = pValue;
        AdjustedPValue = adjustedPValue;
        IsSignificant = significant;
    }

    internal CandidateSlice<T> WithName(string name) =>
        new(name, Conditions.ToArray(), _attributes, Support, Errors, ErrorInterval, OverallErrorRate, PValue, AdjustedPValue, IsSignificant);

    /// <summary>A valid SF name made of the conditions, e.g. <c>SEX_F__AGE_65plus</c>.</summary>
    public string Name { get; }

    /// <summary>The conditions, all of which a member satisfies.</summary>
    public IReadOnlyList<SliceCondition> Conditions { get; }

    /// <summary>Member rows in the data discovery ran on.</summary>
    public int Support { get; }

    /// <summary>Member rows the model got wrong.</summary>
    public int Errors { get; }

    /// <summary>Errors / Support.</summary>
    public double ErrorRate => (double)Errors / Support;

    /// <summary>Wilson interval of the error rate.</summary>
    public ConfidenceInterval ErrorInterval { get; }

    /// <summary>The error rate over all rows.</summary>
    public double OverallErrorRate { get; }

    /// <summary>ErrorRate − OverallErrorRate (positive: worse than overall).</summary>
    public double Gap => ErrorRate - OverallErrorRate;

    /// <summary>The interval of the gap (the Wilson interval shifted by the overall rate).</summary>
    public ConfidenceInterval GapInterval => new(ErrorInterval.Lower - OverallErrorRate, ErrorInterval.Upper - OverallErrorRate);

    /// <summary>One-sided p-value of "error rate in the slice &gt; error rate outside it" (pooled two-proportion z-test).</summary>
    public double PValue { get; }

    /// <summary>The p-value after the multiple-testing correction over every tested candidate.</summary>
    public double AdjustedPValue { get; }

    /// <summary>True when <see cref="AdjustedPValue"/> &lt;= alpha.</summary>
    public bool IsSignificant { get; }

    /// <summary>True when <paramref name="example"/> satisfies every condition.</summary>
    public bool Contains(T example)
    {
        for (int i = 0; i < _attributes.Length; i++)
        {
            if (!string.Equals(_attributes[i].Value(example), Conditions[i].Value, StringComparison.Ordinal)) return false;
        }
        return true;
    }

    /// <summary>The candidate as a slicing function (to add to a <see cref="SliceSet{T}"/>).</summary>
    public ISlicingFunction<T> ToSlicingFunction() => new SlicingFunction<T>(Name, Contains);

    /// <summary>C# to paste into a <c>SliceSet.For&lt;T&gt;()</c> chain, e.g. <c>.Add("SEX_F__AGE_65plus", r =&gt; r["SEX"] == "F" &amp;&amp; r["AGE"] == "65+")</c>.</summary>
    public string ToCode() =>
        $".Add({SliceAttribute.CSharpString(Name)}, r => {string.Join(" && ", _attributes.Select((a, i) => $"{a.AccessCode} == {SliceAttribute.CSharpString(Conditions[i].Value)}"))})";

    /// <inheritdoc />
    public override string ToString() => string.Join(" AND ", Conditions);
}

/// <summary>The result of <see cref="SliceDiscovery.Discover"/>: candidates, best first.</summary>
/// <typeparam name="T">The example type.</typeparam>
public sealed class SliceDiscoveryResult<T>
{
    internal SliceDiscoveryResult(CandidateSlice<T>[] candidates, int rows, int errors, int tested, SliceDiscoveryOptions options)
    {
        Candidates = candidates;
        RowCount = rows;
        ErrorCount = errors;
        TestedCount = tested;
        Options = options;
    }

    /// <summary>The candidates, best first (at most <see cref="SliceDiscoveryOptions.MaxResults"/>).</summary>
    public IReadOnlyList<CandidateSlice<T>> Candidates { get; }

    /// <summary>Rows discovery ran on.</summary>
    public int RowCount { get; }

    /// <summary>Rows the model got wrong.</summary>
    public int ErrorCount { get; }

    /// <summary>Overall error rate.</summary>
    public double OverallErrorRate => RowCount == 0 ? double.NaN : (double)ErrorCount / RowCount;

    /// <summary>Candidates tested (support at least <see cref="SliceDiscoveryOptions.MinSupport"/>): the size of the multiple-testing family.</summary>
    public int TestedCount { get; }

    /// <summary>The options used.</summary>
    public SliceDiscoveryOptions Options { get; }

    /// <summary>A table: rank, slice, support, error rate with its interval, gap, adjusted p-value and significance.</summary>
    public string ToTable()
    {
        string level = TextTable.LevelLabel(Options.ConfidenceLevel);
        var rows = new List<string[]> { new[] { "rank", "slice", "support", "error rate", level + " CI", "gap", "adj. p", "" } };
        for (int i = 0; i < Candidates.Count; i++)
        {
            var c = Candidates[i];
            rows.Add(new[]
            {
                (i + 1).ToString(CultureInfo.InvariantCulture), c.ToString(), c.Support.ToString(CultureInfo.InvariantCulture),
                TextTable.Number(c.ErrorRate), TextTable.Interval(c.ErrorInterval), TextTable.Signed(c.Gap),
                c.AdjustedPValue < 1e-4 ? c.AdjustedPValue.ToString("0.0E+0", CultureInfo.InvariantCulture) : c.AdjustedPValue.ToString("F4", CultureInfo.InvariantCulture),
                c.IsSignificant ? "*" : "",
            });
        }
        var correction = Options.Correction switch
        {
            MultipleTestingCorrection.BenjaminiHochberg => "Benjamini-Hochberg",
            MultipleTestingCorrection.Bonferroni => "Bonferroni",
            _ => "no",
        };
        return TextTable.Render(rows) + Environment.NewLine +
            string.Create(CultureInfo.InvariantCulture, $"overall error rate {OverallErrorRate:F3} on {RowCount} rows; {TestedCount} candidates tested; * = significant at {Options.Alpha} after {correction} correction");
    }

    /// <summary>Pasteable C#: a <c>SliceSet.For&lt;T&gt;()</c> chain with one <c>.Add</c> per candidate, each commented with its numbers.</summary>
    public string ToCode(string typeName = "T")
    {
        var b = new StringBuilder();
        b.Append("var discovered = SliceSet.For<").Append(typeName).Append(">()").AppendLine();
        foreach (var c in Candidates)
        {
            b.Append("    ").Append(c.ToCode()).Append(string.Create(CultureInfo.InvariantCulture,
                $"   // n={c.Support}, error {c.ErrorRate:F3} {c.ErrorInterval}, gap {c.Gap:+0.000;-0.000}, adj. p {c.AdjustedPValue:G3}")).AppendLine();
        }
        return b.Append("    .Build();").ToString();
    }
}

/// <summary>
/// Slice discovery: proposes candidate slices from a model's errors, the step the SRAM and Slice
/// Tuner papers leave to the user. Enumerates conjunctions of up to
/// <see cref="SliceDiscoveryOptions.MaxConditions"/> attribute values with enough support, tests
/// each for a higher error rate than the rest of the data (one-sided two-proportion z-test),
/// corrects the p-values for the number of candidates tested (Benjamini-Hochberg or Bonferroni),
/// gives each error rate a Wilson interval, drops conjunctions that a shorter condition already
/// explains, and ranks the rest.
/// </summary>
public static class SliceDiscovery
{
    /// <summary>Discovers candidate slices.</summary>
    /// <param name="rows">The examples (typically a held-out set the model did not train on).</param>
    /// <param name="errors">Per row, true when the model got it wrong.</param>
    /// <param name="attributes">Categorical attributes candidates may condition on (names distinct).</param>
    /// <param name="options">Null for the defaults.</param>
    /// <param name="cancellationToken">Cancels the search.</param>
    /// <exception cref="SliceDataException">Row counts disagree, or an attribute reader throws (the message names attribute and row).</exception>
    /// <exception cref="ArgumentException">No attributes, duplicated attribute names, or invalid options.</exception>
    public static SliceDiscoveryResult<T> Discover<T>(IReadOnlyList<T> rows, IReadOnlyList<bool> errors, IReadOnlyList<SliceAttribute<T>> attributes,
        SliceDiscoveryOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(errors);
        ArgumentNullException.ThrowIfNull(attributes);
        options = (options ?? new SliceDiscoveryOptions()).Clone();
        options.Validate();
        if (rows.Count != errors.Count)
            throw new SliceDataException($"Got {rows.Count} rows but {errors.Count} error flags.", nameof(errors));
        if (attributes.Count == 0) throw new ArgumentException("Slice discovery needs at least one attribute.", nameof(attributes));
        var dup = attributes.GroupBy(a => a.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null) throw new ArgumentException($"Attribute '{dup.Key}' is given more than once.", nameof(attributes));

        int n = rows.Count, k = attributes.Count;
        // Encode each attribute's values as small integers (-1 = missing).
        var codes = new int[k][];
        var values = new List<string>[k];
        for (int a = 0; a < k; a++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var map = new Dictionary<string, int>(StringComparer.Ordinal);
            values[a] = new List<string>();
            codes[a] = new int[n];
            for (int r = 0; r < n; r++)
            {
                string? v;
                try { v = attributes[a].Value(rows[r]); }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    throw new SliceDataException($"Reading attribute '{attributes[a].Name}' of row {r} threw: {e.Message}", nameof(attributes), row: r, innerException: e);
                }
                if (v is null) { codes[a][r] = -1; continue; }
                if (!map.TryGetValue(v, out int code)) { code = map.Count; map[v] = code; values[a].Add(v); }
                codes[a][r] = code;
            }
        }
        int totalErrors = errors.Count(e => e);
        double overall = n == 0 ? 0 : (double)totalErrors / n;

        // Count support and errors of every conjunction (attribute set in ascending order, one value each).
        var stats = new Dictionary<Key, (int Support, int Errors)>();
        foreach (var set in AttributeSets(k, options.MaxConditions))
        {
            cancellationToken.ThrowIfCancellationRequested();
            for (int r = 0; r < n; r++)
            {
                var key = Key.For(set, codes, r);
                if (key.IsMissing) continue;
                stats.TryGetValue(key, out var s);
                stats[key] = (s.Support + 1, s.Errors + (errors[r] ? 1 : 0));
            }
        }
        var tested = stats.Where(kv => kv.Value.Support >= options.MinSupport && kv.Value.Support < n).ToArray();
        var pValues = tested.Select(kv => MultipleTesting.OneSidedProportionTest(kv.Value.Errors, kv.Value.Support, totalErrors - kv.Value.Errors, n - kv.Value.Support)).ToArray();
        var adjusted = MultipleTesting.Adjust(pValues, options.Correction);

        var candidates = new List<(CandidateSlice<T> Slice, double Score)>();
        var usedNames = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (int i = 0; i < tested.Length; i++)
        {
            var (key, (support, errs)) = tested[i];
            double rate = (double)errs / support;
            if (rate <= overall) continue;
            if (key.Length > 1 && !ImprovesOnParents(key, rate - overall, support, stats, overall, options.MinGapImprovement)) continue;
            bool significant = adjusted[i] <= options.Alpha;
            if (options.SignificantOnly && !significant) continue;
            var interval = WilsonInterval.Compute(errs, support, options.ConfidenceLevel);
            var conditions = key.Conditions.Select(c => new SliceCondition(attributes[c.Attribute].Name, values[c.Attribute][c.Value])).ToArray();
            var attrs = key.Conditions.Select(c => attributes[c.Attribute]).ToArray();
            var candidate = new CandidateSlice<T>(string.Empty, conditions, attrs, support, errs, interval, overall, pValues[i], adjusted[i], significant);
            double score = options.Ranking switch
            {
                DiscoveryRanking.Gap => rate - overall,
                DiscoveryRanking.PValue => -adjusted[i],
                _ => interval.Lower - overall,
            };
            candidates.Add((candidate, score));
        }
        var ranked = candidates
            .OrderByDescending(c => c.Slice.IsSignificant)
            .ThenByDescending(c => c.Score)
            .ThenByDescending(c => c.Slice.Support)
            .ThenBy(c => c.Slice.ToString(), StringComparer.Ordinal)
            .Take(options.MaxResults)
            .Select(c => WithName(c.Slice, usedNames))
            .ToArray();
        return new SliceDiscoveryResult<T>(ranked, n, totalErrors, tested.Length, options);
    }

    private static CandidateSlice<T> WithName<T>(CandidateSlice<T> c, HashSet<string> used)
    {
        string name = MakeName(c.Conditions);
        string unique = name;
        for (int i = 2; !used.Add(unique); i++) unique = $"{name[..Math.Min(name.Length, 60)]}_{i}";
        return c.WithName(unique);
    }

    /// <summary>A name that passes the SF name rules: letters, digits, '_', '-', '.'; conditions joined by "__".</summary>
    internal static string MakeName(IEnumerable<SliceCondition> conditions)
    {
        static string Clean(string s)
        {
            var b = new StringBuilder();
            foreach (char ch in s.Replace("+", "plus", StringComparison.Ordinal).Replace("<", "lt", StringComparison.Ordinal).Replace(">", "gt", StringComparison.Ordinal))
            {
                char c = char.IsAsciiLetterOrDigit(ch) || ch is '-' or '.' ? ch : '_';
                if (c == '_' && b.Length > 0 && b[^1] == '_') continue;
                b.Append(c);
            }
            return b.ToString().Trim('_', '.', '-');
        }
        var name = string.Join("__", conditions.Select(c => $"{Clean(c.Attribute)}_{Clean(c.Value)}")).Trim('_', '.', '-');
        if (name.Length == 0) name = "slice";
        if (name.Length > 64) name = name[..64].TrimEnd('_', '.', '-');
        return name;
    }

    private static bool ImprovesOnParents(Key key, double gap, int support, Dictionary<Key, (int Support, int Errors)> stats, double overall, double minImprovement)
    {
        for (int drop = 0; drop < key.Length; drop++)
        {
            var parent = key.Without(drop);
            if (!stats.TryGetValue(parent, out var p)) continue;
            if (p.Support == support) return false; // the same rows as a shorter slice
            double parentGap = (double)p.Errors / p.Support - overall;
            if (gap < parentGap + minImprovement) return false;
        }
        return true;
    }

    private static IEnumerable<int[]> AttributeSets(int k, int maxSize)
    {
        for (int a = 0; a < k; a++) yield return new[] { a };
        if (maxSize >= 2)
            for (int a = 0; a < k; a++) for (int b = a + 1; b < k; b++) yield return new[] { a, b };
        if (maxSize >= 3)
            for (int a = 0; a < k; a++) for (int b = a + 1; b < k; b++) for (int c = b + 1; c < k; c++) yield return new[] { a, b, c };
    }

    private readonly record struct Condition(int Attribute, int Value);

    /// <summary>A conjunction: up to three (attribute, value) pairs in ascending attribute order.</summary>
    private readonly record struct Key(int Length, Condition C0, Condition C1, Condition C2)
    {
        public bool IsMissing => C0.Value < 0 || (Length > 1 && C1.Value < 0) || (Length > 2 && C2.Value < 0);

        public IEnumerable<Condition> Conditions
        {
            get
            {
                yield return C0;
                if (Length > 1) yield return C1;
                if (Length > 2) yield return C2;
            }
        }

        public static Key For(int[] set, int[][] codes, int row) => set.Length switch
        {
            1 => new Key(1, new(set[0], codes[set[0]][row]), default, default),
            2 => new Key(2, new(set[0], codes[set[0]][row]), new(set[1], codes[set[1]][row]), default),
            _ => new Key(3, new(set[0], codes[set[0]][row]), new(set[1], codes[set[1]][row]), new(set[2], codes[set[2]][row])),
        };

        public Key Without(int index)
        {
            var list = Conditions.Where((_, i) => i != index).ToArray();
            return list.Length == 1 ? new Key(1, list[0], default, default) : new Key(2, list[0], list[1], default);
        }
    }
}
