namespace SliceLearning.Evaluation;

/// <summary>Helpers that turn model outputs into the class arrays the metrics take.</summary>
public static class Predictions
{
    /// <summary>
    /// The predicted class of each row: the arg-max of <paramref name="scores"/>, a row-major
    /// [N, numClasses] array of probabilities or logits (ties go to the lower class).
    /// </summary>
    /// <exception cref="SliceDataException">A NaN score (the message names the row) or a length that is not a multiple of <paramref name="numClasses"/>.</exception>
    public static int[] ArgMax(ReadOnlySpan<float> scores, int numClasses)
    {
        if (numClasses < 1)
            throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, "The 'numClasses' parameter must be positive.");
        if (scores.Length % numClasses != 0)
            throw new SliceDataException($"Got {scores.Length} scores, which is not a multiple of numClasses = {numClasses}.", nameof(scores));
        var result = new int[scores.Length / numClasses];
        for (int row = 0; row < result.Length; row++)
        {
            var rowScores = scores.Slice(row * numClasses, numClasses);
            int best = 0;
            for (int k = 0; k < numClasses; k++)
            {
                float v = rowScores[k];
                if (float.IsNaN(v))
                    throw new SliceDataException($"The score of class {k} at row {row} is NaN; predictions must be numbers.", nameof(scores), row: row);
                if (v > rowScores[best]) best = k;
            }
            result[row] = best;
        }
        return result;
    }

    /// <summary>
    /// Binary predictions from the probabilities of class 1: 1 where p &gt;= <paramref name="threshold"/>.
    /// </summary>
    /// <exception cref="SliceDataException">A NaN probability (the message names the row).</exception>
    public static int[] FromPositiveProbabilities(ReadOnlySpan<float> positiveProbabilities, float threshold = 0.5f)
    {
        var result = new int[positiveProbabilities.Length];
        for (int row = 0; row < result.Length; row++)
        {
            float p = positiveProbabilities[row];
            if (float.IsNaN(p))
                throw new SliceDataException($"The probability at row {row} is NaN; predictions must be numbers.", nameof(positiveProbabilities), row: row);
            result[row] = p >= threshold ? 1 : 0;
        }
        return result;
    }
}
