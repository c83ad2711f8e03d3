using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SliceLearning.Training.DataParallel;

namespace SliceLearning.Distributed;

/// <summary>
/// This process's place in an MPI job (MPICH): its rank, the number of ranks, and the collectives
/// that <see cref="SliceLearning.Training.SliceTrainer.WithDataParallel"/> uses. Start one per
/// process, before any training, and dispose it at the end.
/// </summary>
/// <remarks>
/// <para>Launched without <c>mpirun</c> the session is a one-rank group that never loads MPI, so a
/// program behaves exactly as a plain single-process one.</para>
/// <para>Sums are reduced to rank 0 and then broadcast, so every rank gets bit-identical results
/// and the model replicas stay identical.</para>
/// <para>Not thread-safe: call it from one thread per process (MPI is initialised single-threaded).</para>
/// </remarks>
public sealed class MpiSession : IDataParallelCoordinator, IDisposable
{
    private readonly MPI.Environment? _environment;
    private readonly MPI.Intracommunicator? _world;
    private readonly ILogger _logger;
    private bool _disposed;

    private MpiSession(MPI.Environment? environment, MPI.Intracommunicator? world, ILogger logger)
    {
        _environment = environment;
        _world = world;
        _logger = logger;
        Rank = world?.Rank ?? 0;
        WorldSize = world?.Size ?? 1;
    }

    /// <inheritdoc />
    public int Rank { get; }

    /// <inheritdoc />
    public int WorldSize { get; }

    /// <summary>True on rank 0, the rank that writes results and checkpoints.</summary>
    public bool IsRoot => Rank == 0;

    /// <summary>
    /// Joins the MPI job this process was launched in (<c>mpirun.mpich -np N dotnet app.dll</c>), or
    /// returns a one-rank session when the process was not launched by an MPI launcher.
    /// </summary>
    /// <exception cref="MpiUnavailableException">Launched by Open MPI, or MPICH is not installed.</exception>
    public static MpiSession Start(ILoggerFactory? loggerFactory = null)
    {
        var logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<MpiSession>();
        if (Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_SIZE") is not null)
            throw new MpiUnavailableException(
                "This process was launched by Open MPI's mpirun. MPI.NET uses MPICH's ABI and crashes under Open MPI: " + MpiNativeLibrary.InstallHint + ".");
        if (!LaunchedByMpich())
        {
            logger.LogDebug("No MPI launcher detected: running as a single rank without MPI.");
            return new MpiSession(null, null, logger);
        }
        MpiNativeLibrary.Register();
        MpiNativeLibrary.EnsureLoaded();
        var args = Array.Empty<string>();
        var environment = new MPI.Environment(ref args);
        var world = MPI.Communicator.world;
        logger.LogInformation("MPI rank {Rank} of {Size} started on {Host}.", world.Rank, world.Size, MPI.Environment.ProcessorName);
        return new MpiSession(environment, world, logger);
    }

    /// <summary>True when the process runs under MPICH's launcher (Hydra sets PMI_RANK / PMI_SIZE).</summary>
    internal static bool LaunchedByMpich() =>
        Environment.GetEnvironmentVariable("PMI_RANK") is not null || Environment.GetEnvironmentVariable("PMI_SIZE") is not null;

    /// <summary>
    /// The rows of <paramref name="items"/> this rank owns: a contiguous block, the first
    /// <c>Count % WorldSize</c> ranks taking one extra row.
    /// </summary>
    public IReadOnlyList<T> ShardOf<T>(IReadOnlyList<T> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        var (start, length) = ShardRange(items.Count, Rank, WorldSize);
        var shard = new T[length];
        for (int i = 0; i < length; i++) shard[i] = items[start + i];
        return shard;
    }

    /// <summary>Start and length of rank <paramref name="rank"/>'s block of <paramref name="count"/> rows.</summary>
    public static (int Start, int Length) ShardRange(int count, int rank, int worldSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfLessThan(worldSize, 1);
        if (rank < 0 || rank >= worldSize) throw new ArgumentOutOfRangeException(nameof(rank), rank, $"Rank must be in [0, {worldSize}).");
        int baseSize = count / worldSize, extra = count % worldSize;
        int start = rank * baseSize + Math.Min(rank, extra);
        return (start, baseSize + (rank < extra ? 1 : 0));
    }

    /// <summary>
    /// Runs <paramref name="work"/> on this rank; if it throws, every rank is stopped with this
    /// rank's number and the error (<see cref="Fail"/>) instead of waiting forever in a collective.
    /// </summary>
    public T Run<T>(Func<T> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        try
        {
            return work();
        }
        catch (Exception e) when (WorldSize > 1)
        {
            Fail(e);
            throw;
        }
    }

    /// <inheritdoc />
    public void Broadcast(Span<float> values, int root)
    {
        var world = RequireWorld();
        if (world is null) return;
        var buffer = values.ToArray();
        world.Broadcast(ref buffer, root);
        buffer.CopyTo(values);
    }

    /// <inheritdoc />
    public void SumInPlace(Span<float> values)
    {
        var world = RequireWorld();
        if (world is null) return;
        var input = values.ToArray();
        float[] sum = new float[input.Length];
        world.Reduce(input, MPI.Operation<float>.Add, 0, ref sum);
        if (world.Rank != 0) sum = new float[input.Length];
        world.Broadcast(ref sum, 0);
        sum.CopyTo(values);
    }

    /// <inheritdoc />
    public void SumInPlace(Span<double> values)
    {
        var world = RequireWorld();
        if (world is null) return;
        var input = values.ToArray();
        double[] sum = new double[input.Length];
        world.Reduce(input, MPI.Operation<double>.Add, 0, ref sum);
        if (world.Rank != 0) sum = new double[input.Length];
        world.Broadcast(ref sum, 0);
        sum.CopyTo(values);
    }

    /// <inheritdoc />
    public int[] GatherAll(ReadOnlySpan<int> local)
    {
        var world = RequireWorld();
        if (world is null) return local.ToArray();
        var counts = world.Allgather(local.Length);
        var all = new int[counts.Sum()];
        world.AllgatherFlattened(local.ToArray(), counts, ref all);
        return all;
    }

    /// <inheritdoc />
    public void Fail(Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        string message = $"SliceLearning.Distributed: rank {Rank} of {WorldSize} failed, stopping all ranks: {error.GetType().Name}: {error.Message}";
        _logger.LogCritical(error, "Rank {Rank} of {Size} failed; stopping all ranks.", Rank, WorldSize);
        Console.Error.WriteLine(message);
        Console.Error.Flush();
        if (_world is not null && !_disposed) _world.Abort(1);
    }

    /// <summary>Leaves the MPI job (MPI_Finalize). Every rank must dispose its session.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _environment?.Dispose();
    }

    private MPI.Intracommunicator? RequireWorld()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _world;
    }
}
