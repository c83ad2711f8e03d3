using Parquet.Serialization;
using SliceLearning.Training.DataParallel;

namespace SliceLearning.Distributed;

/// <summary>
/// Input that does not fit one machine: a data set stored as several Parquet files, each rank
/// reading only its own files. Rows map to a plain class whose public properties are named like
/// the columns (Parquet.Net's serializer).
/// </summary>
public static class ParquetShards
{
    /// <summary>
    /// The files rank <paramref name="rank"/> of <paramref name="worldSize"/> reads: the paths sorted
    /// ordinally and dealt round-robin, so every file goes to exactly one rank and every rank agrees.
    /// </summary>
    /// <exception cref="ArgumentException">No files, or fewer files than ranks (a rank would get no data).</exception>
    public static IReadOnlyList<string> Assign(IEnumerable<string> files, int rank, int worldSize)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentOutOfRangeException.ThrowIfLessThan(worldSize, 1);
        if (rank < 0 || rank >= worldSize) throw new ArgumentOutOfRangeException(nameof(rank), rank, $"Rank must be in [0, {worldSize}).");
        var sorted = files.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        if (sorted.Length < worldSize)
            throw new ArgumentException($"{sorted.Length} Parquet file(s) for {worldSize} ranks: every rank needs at least one file; split the data into more files.", nameof(files));
        return sorted.Where((_, i) => i % worldSize == rank).ToArray();
    }

    /// <summary>The Parquet files (<c>*.parquet</c>) directly in <paramref name="folder"/> that this rank reads.</summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    public static IReadOnlyList<string> Assign(this IDataParallelCoordinator group, string folder)
    {
        ArgumentNullException.ThrowIfNull(group);
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"The Parquet shard folder '{folder}' does not exist.");
        return Assign(Directory.GetFiles(folder, "*.parquet"), group.Rank, group.WorldSize);
    }

    /// <summary>Reads every row of <paramref name="files"/>, in file order, as <typeparamref name="T"/>.</summary>
    /// <exception cref="InvalidDataException">A file is not valid Parquet or does not fit <typeparamref name="T"/>; the message names the file.</exception>
    public static async Task<IReadOnlyList<T>> ReadAsync<T>(IEnumerable<string> files, CancellationToken cancellationToken = default) where T : class, new()
    {
        ArgumentNullException.ThrowIfNull(files);
        var rows = new List<T>();
        foreach (var file in files)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await using var stream = File.OpenRead(file);
            try
            {
                var result = await ParquetSerializer.DeserializeAsync<T>(stream, cancellationToken: cancellationToken).ConfigureAwait(false);
                rows.AddRange(result.Data);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                throw new InvalidDataException($"Cannot read '{file}' as rows of {typeof(T).Name}: {e.Message}", e);
            }
        }
        return rows;
    }

    /// <summary>Reads this rank's share of the Parquet files in <paramref name="folder"/> (see <see cref="Assign(IEnumerable{string}, int, int)"/>).</summary>
    public static Task<IReadOnlyList<T>> ReadShardAsync<T>(this IDataParallelCoordinator group, string folder, CancellationToken cancellationToken = default) where T : class, new() =>
        ReadAsync<T>(group.Assign(folder), cancellationToken);
}
