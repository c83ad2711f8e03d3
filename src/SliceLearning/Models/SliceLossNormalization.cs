namespace SliceLearning.Models;

/// <summary>How <see cref="HardParameterSharingModel"/> and <see cref="ManualReweightingModel"/> combine their k slice heads' loss terms.</summary>
public enum SliceLossNormalization
{
    /// <summary>
    /// Summed over the k slice heads, each with weight <see cref="HardParameterSharingOptions.SliceLossWeight"/>:
    /// the slice tasks' total weight grows with k (twice the base task's at k = 2, 64 times at k = 64).
    /// </summary>
    SumOverSlices = 0,

    /// <summary>
    /// Averaged over the k slice heads (each term × <see cref="HardParameterSharingOptions.SliceLossWeight"/> / k):
    /// the slice tasks together weigh as much as the base task whatever k is. This is the paper's reference
    /// code (each slice head's loss multiplier is 1 / k).
    /// </summary>
    MeanOverSlices = 1,
}
