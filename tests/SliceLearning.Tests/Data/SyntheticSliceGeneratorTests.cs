using SliceLearning.Data.Synthetic;

namespace SliceLearning.Tests.Data;

public sealed class SyntheticSliceGeneratorTests
{
    [Fact]
    public void SameSeed_GivesIdenticalData_OtherSeed_Differs()
    {
        var options = new SyntheticSliceOptions { BenignSliceCount = 3 };
        var a = new SyntheticSliceGenerator(options).Generate(2000, seed: 5);
        var b = new SyntheticSliceGenerator(options).Generate(2000, seed: 5);
        var c = new SyntheticSliceGenerator(options).Generate(2000, seed: 6);
        Assert.Equal(a.Points, b.Points);
        Assert.Equal(a.Labels, b.Labels);
        for (int col = 0; col < a.SfSlices.ColumnCount; col++)
        {
            Assert.Equal(a.SfSlices.Column(col), b.SfSlices.Column(col));
            Assert.Equal(a.TrueSlices.Column(col), b.TrueSlices.Column(col));
        }
        Assert.NotEqual(a.Points, c.Points);
    }

    [Theory]
    [InlineData(10_000, 0.03, 300)]
    [InlineData(2_001, 0.03, 60)]  // 60.03 rounds to 60
    [InlineData(1_000, 0.125, 125)]
    public void CriticalSlices_HaveExactlyTheRequestedSize(int count, double fraction, int expected)
    {
        var options = new SyntheticSliceOptions();
        options.Slices = new List<SyntheticSliceRegion>
        {
            new("disc", SliceShape.Disc, -0.5, -0.5, fraction),
            new("square", SliceShape.Square, 0.5, 0.5, fraction),
        };
        var data = new SyntheticSliceGenerator(options).Generate(count, seed: 1);
        Assert.Equal(count, data.Count);
        Assert.Equal(new[] { "base", "disc", "square" }, data.TrueSlices.SliceNames);
        Assert.Equal(expected, data.TrueSlices.MemberCount(1));
        Assert.Equal(expected, data.TrueSlices.MemberCount(2));
        Assert.Equal(count, data.TrueSlices.MemberCount(0));
        Assert.All(data.Points, p => Assert.True(Math.Abs(p.X) <= 1 && Math.Abs(p.Y) <= 1));
    }

    [Fact]
    public void Labels_FollowTheBoundary_AndAreClassOneInsideTheDefaultSlices()
    {
        var generator = new SyntheticSliceGenerator(new SyntheticSliceOptions { BenignSliceCount = 4 });
        var data = generator.Generate(5000, seed: 2);
        int changed = 0;
        for (int i = 0; i < data.Count; i++)
        {
            var p = data.Points[i];
            int boundary = p.Y > p.X ? 1 : 0; // default boundary: -x + y > 0
            bool critical = data.TrueSlices[i, 1] || data.TrueSlices[i, 2];
            Assert.Equal(critical ? 1 : boundary, data.Labels[i]);
            if (critical && boundary == 0) changed++;
        }
        // The discs are centered on the boundary: about half of their 300 points change class.
        Assert.InRange(changed, 110, 190);
    }

    [Fact]
    public void FlippedSlices_InvertTheBoundaryLabel()
    {
        var options = new SyntheticSliceOptions { Slices = new List<SyntheticSliceRegion> { new("flip", SliceShape.Square, 0.2, 0.2, 0.04) } };
        var data = new SyntheticSliceGenerator(options).Generate(3000, seed: 7);
        Assert.Equal(120, data.TrueSlices.MemberCount(1));
        for (int i = 0; i < data.Count; i++)
        {
            int boundary = data.Points[i].Y > data.Points[i].X ? 1 : 0;
            Assert.Equal(data.TrueSlices[i, 1] ? 1 - boundary : boundary, data.Labels[i]);
        }
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.15)]
    [InlineData(0.4)]
    [InlineData(0.8)]
    public void SfNoise_GivesTheRequestedPrecisionAndRecall(double noise)
    {
        var options = new SyntheticSliceOptions { SfNoise = noise };
        var data = new SyntheticSliceGenerator(options).Generate(10_000, seed: 3);
        for (int col = 1; col <= 2; col++)
        {
            var truth = data.TrueSlices.Column(col);
            var sf = data.SfSlices.Column(col);
            int tp = truth.Zip(sf).Count(t => t.First && t.Second);
            int sfSize = sf.Count(v => v), trueSize = truth.Count(v => v);
            int flips = (int)Math.Round(noise * 300, MidpointRounding.AwayFromZero);
            Assert.Equal(300, trueSize);
            Assert.Equal(300, sfSize);                 // as many false positives as dropped members
            Assert.Equal(300 - flips, tp);             // precision = recall = 1 - noise
            Assert.Equal(noise, data.NoiseRate(col));
        }
    }

    [Fact]
    public void FalsePositives_LieNearTheSlice()
    {
        var generator = new SyntheticSliceGenerator(new SyntheticSliceOptions { SfNoise = 0.4 });
        var data = generator.Generate(10_000, seed: 4);
        var region = generator.Regions[0];
        var fp = Enumerable.Range(0, data.Count).Where(r => data.SfSlices[r, 1] && !data.TrueSlices[r, 1]).ToArray();
        Assert.Equal(120, fp.Length);
        Assert.All(fp, r =>
        {
            double dx = data.Points[r].X - region.CenterX, dy = data.Points[r].Y - region.CenterY;
            Assert.InRange(Math.Sqrt(dx * dx + dy * dy), region.Extent, 2 * region.Extent);
        });
    }

    [Fact]
    public void PerSliceNoise_OverridesTheDefault()
    {
        var options = new SyntheticSliceOptions
        {
            SfNoise = 0,
            Slices = new List<SyntheticSliceRegion>
            {
                new("clean", SliceShape.Disc, -0.5, -0.5, 0.05),
                new("noisy", SliceShape.Disc, 0.5, 0.5, 0.05, SfNoise: 0.8, Label: 1),
            },
        };
        var data = new SyntheticSliceGenerator(options).Generate(4000, seed: 9);
        Assert.Equal(data.TrueSlices.Column(1), data.SfSlices.Column(1));
        int tp = Enumerable.Range(0, data.Count).Count(r => data.SfSlices[r, 2] && data.TrueSlices[r, 2]);
        Assert.Equal(200 - 160, tp);
    }

    [Fact]
    public void BenignSlices_AreNamedPlacedBySeed_AndLeaveLabelsAlone()
    {
        var options = new SyntheticSliceOptions { Slices = new List<SyntheticSliceRegion>(), BenignSliceCount = 5, BenignSfNoise = 0, LayoutSeed = 11 };
        var g1 = new SyntheticSliceGenerator(options);
        var g2 = new SyntheticSliceGenerator(options);
        Assert.Equal(new[] { "base", "benign_001", "benign_002", "benign_003", "benign_004", "benign_005" }, g1.SliceNames);
        Assert.Equal(g1.Regions, g2.Regions);
        Assert.All(g1.Regions, r => Assert.False(r.Critical));
        var data = g1.Generate(3000, seed: 1);
        for (int i = 0; i < data.Count; i++) Assert.Equal(data.Points[i].Y > data.Points[i].X ? 1 : 0, data.Labels[i]);
        // Benign sizes are binomial around the requested 3% (90 of 3000), not exact.
        for (int c = 1; c <= 5; c++) Assert.InRange(data.TrueSlices.MemberCount(c), 50, 130);
    }

    [Fact]
    public void TrueSliceSet_AgreesWithTheGeneratedMembership()
    {
        var generator = new SyntheticSliceGenerator(new SyntheticSliceOptions { BenignSliceCount = 2 });
        var data = generator.Generate(1500, seed: 8);
        var applied = generator.TrueSliceSet.Apply(data.Points);
        for (int c = 0; c < applied.ColumnCount; c++) Assert.Equal(data.TrueSlices.Column(c), applied.Column(c));
    }

    [Fact]
    public void Splits_UseDistinctSeeds()
    {
        var splits = new SyntheticSliceGenerator().GenerateSplits(500, 200, 300, seed: 1);
        Assert.Equal((500, 200, 300), (splits.Train.Count, splits.Validation.Count, splits.Test.Count));
        Assert.Equal(new SyntheticSliceGenerator().Generate(200, 4).Points, splits.Validation.Points);
    }

    [Fact]
    public void InvalidOptions_ListEveryProblem()
    {
        var options = new SyntheticSliceOptions
        {
            SfNoise = 1.2,
            BenignSliceCount = -1,
            Slices = new List<SyntheticSliceRegion>
            {
                new("a", SliceShape.Disc, 0, 0, 0.05),
                new("b", SliceShape.Disc, 0.1, 0, 0.05),
                new("edge", SliceShape.Square, 0.95, 0, 0.01),
                new("bad-label", SliceShape.Disc, -0.6, 0.6, 0.01, Label: 2),
            },
        };
        var ex = Assert.Throws<ArgumentException>(() => new SyntheticSliceGenerator(options));
        Assert.Contains("SfNoise must be in [0, 1); got 1.2.", ex.Message);
        Assert.Contains("BenignSliceCount must be in [0, 9999]; got -1.", ex.Message);
        Assert.Contains("Critical slices 'a' and 'b' overlap", ex.Message);
        Assert.Contains("Slices[2] ('edge') at (0.95, 0) with extent 0.1 does not fit", ex.Message);
        Assert.Contains("Slices[3] ('bad-label'): Label must be 0, 1 or null (flip); got 2.", ex.Message);
    }
}

public sealed class StraddlingDiscTests
{
    [Theory]
    [InlineData(0.3)]
    [InlineData(0.7)]
    [InlineData(0.5)]
    public void StraddlingDisc_HasTheRequestedClassMix_AndStraddlesTheBoundary(double share)
    {
        var options = new SyntheticSliceOptions();
        var disc = options.StraddlingDisc("s", along: -0.636, fraction: 0.03, positiveShare: share);
        options.Slices = new List<SyntheticSliceRegion> { disc };
        var generator = new SyntheticSliceGenerator(options);
        var data = generator.Generate(20_000, seed: 3);
        var members = Enumerable.Range(0, data.Count).Where(i => data.TrueSlices[i, 1]).ToArray();
        Assert.Equal(600, members.Length);
        double positives = members.Average(i => (double)data.Labels[i]);
        Assert.InRange(positives, share - 0.06, share + 0.06);
        // Flipped: every member's label is the opposite of the global boundary's.
        Assert.All(members, i => Assert.Equal(1 - generator.BoundaryLabel(data.Points[i].X, data.Points[i].Y), data.Labels[i]));
        // Placed along y = x near (-0.45, -0.45), within one radius of the line.
        double distance = Math.Abs(disc.CenterY - disc.CenterX) / Math.Sqrt(2);
        Assert.True(distance < disc.Extent, $"center ({disc.CenterX:F3}, {disc.CenterY:F3}) is {distance:F3} from the boundary, radius {disc.Extent:F3}");
        Assert.InRange((disc.CenterX + disc.CenterY) / 2, -0.46, -0.44);
    }

    [Fact]
    public void StraddlingDisc_AreaShare_MatchesTheSegmentFormula()
    {
        // Exact geometry: the share of the disc beyond the chord is the requested class-1 share.
        var options = new SyntheticSliceOptions { BoundaryX = 2, BoundaryY = 1, BoundaryOffset = 0.2 };
        var disc = options.StraddlingDisc("s", along: 0.1, fraction: 0.04, positiveShare: 0.25);
        var rng = new Random(1);
        int inside = 0, positive = 0;
        while (inside < 200_000)
        {
            double x = disc.CenterX + (rng.NextDouble() * 2 - 1) * disc.Extent, y = disc.CenterY + (rng.NextDouble() * 2 - 1) * disc.Extent;
            if (!disc.Contains(x, y)) continue;
            inside++;
            if (2 * x + y <= 0.2) positive++;   // class-0 side of the boundary becomes class 1 after the flip
        }
        Assert.Equal(0.25, positive / (double)inside, 2);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(double.NaN)]
    public void StraddlingDisc_RejectsAShareThatDoesNotStraddle(double share)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new SyntheticSliceOptions().StraddlingDisc("s", 0, 0.03, share));
        Assert.Equal("positiveShare", ex.ParamName);
    }

    [Fact]
    public void PrecisionAndRecall_AreMet_AndFalsePositivesComeFromTheRing()
    {
        var options = new SyntheticSliceOptions { NoiseNeighborhood = 1.5, SfRecall = 0.8, SfPrecision = 0.75 };
        options.Slices = new List<SyntheticSliceRegion> { options.StraddlingDisc("s1", -0.636, 0.02, 0.3), options.StraddlingDisc("s2", 0.636, 0.02, 0.7) };
        var data = new SyntheticSliceGenerator(options).Generate(10_000, seed: 4);
        foreach (int c in new[] { 1, 2 })
        {
            var region = options.Slices[c - 1];
            int tp = 0, fp = 0, fn = 0;
            for (int i = 0; i < data.Count; i++)
            {
                bool truth = data.TrueSlices[i, c], sf = data.SfSlices[i, c];
                if (truth && sf) tp++;
                else if (sf)
                {
                    fp++;
                    double dx = data.Points[i].X - region.CenterX, dy = data.Points[i].Y - region.CenterY, d = Math.Sqrt(dx * dx + dy * dy);
                    Assert.InRange(d, region.Extent * 0.999, 1.5 * region.Extent);   // the ring just outside the disc
                }
                else if (truth) fn++;
            }
            Assert.Equal(200, tp + fn);
            Assert.Equal(160, tp);                                 // recall 0.8 of 200 members
            Assert.Equal(53, fp);                                  // round(160 × 0.25 / 0.75)
            Assert.Equal(0.75, tp / (double)(tp + fp), 2);
        }
    }

    [Fact]
    public void ExactSfs_KeepTheNoisyTasksPointsLabelsAndBenignSfs()
    {
        // An oracle comparison (noisy SFs against exact ones on the same data) needs the SF noise to be drawn after
        // the points and labels: with P = R = 1 no noise is drawn, so the data must be the noisy task's.
        SyntheticSliceOptions Task(double rate)
        {
            var o = new SyntheticSliceOptions { NoiseNeighborhood = 1.5, SfRecall = rate, SfPrecision = rate, BenignSliceCount = 3, BenignSliceFraction = 0.01, BenignSliceMaxFraction = 0.05, BenignSfNoise = 0 };
            o.Slices = new List<SyntheticSliceRegion> { o.StraddlingDisc("s1", -0.636, 0.03, 0.3), o.StraddlingDisc("s2", 0.636, 0.03, 0.7) };
            return o;
        }
        var noisy = new SyntheticSliceGenerator(Task(0.85)).Generate(4000, seed: 33);
        var exact = new SyntheticSliceGenerator(Task(1.0)).Generate(4000, seed: 33);
        Assert.Equal(noisy.Points, exact.Points);
        Assert.Equal(noisy.Labels, exact.Labels);
        for (int c = 0; c < exact.SfSlices.ColumnCount; c++)
        {
            Assert.Equal(noisy.TrueSlices.Column(c), exact.TrueSlices.Column(c));
            Assert.Equal(exact.TrueSlices.Column(c), exact.SfSlices.Column(c));          // exact SFs everywhere
            if (c >= 3) Assert.Equal(noisy.SfSlices.Column(c), exact.SfSlices.Column(c)); // benign SFs exact in both
        }
        foreach (int c in new[] { 1, 2 })
        {
            // 120 members: round(0.15 × 120) = 18 missed, round(102 × 0.15 / 0.85) = 18 ring points added.
            Assert.Equal(120, noisy.TrueSlices.MemberCount(c));
            Assert.Equal(18, Enumerable.Range(0, noisy.Count).Count(i => noisy.TrueSlices[i, c] && !noisy.SfSlices[i, c]));
            Assert.Equal(18, Enumerable.Range(0, noisy.Count).Count(i => !noisy.TrueSlices[i, c] && noisy.SfSlices[i, c]));
        }
    }

    [Fact]
    public void BenignSlices_DrawTheirSizeFromTheRange_AndCanBeExactOrNoisy()
    {
        var exact = new SyntheticSliceOptions { BenignSliceCount = 20, BenignSliceFraction = 0.01, BenignSliceMaxFraction = 0.05, BenignSfNoise = 0 };
        var generator = new SyntheticSliceGenerator(exact);
        var benign = generator.Regions.Where(r => !r.Critical).ToArray();
        Assert.Equal(20, benign.Length);
        Assert.All(benign, r => Assert.InRange(r.Fraction, 0.01, 0.05));
        Assert.True(benign.Max(r => r.Fraction) - benign.Min(r => r.Fraction) > 0.02, "the sizes should spread over the range");
        var data = generator.Generate(5000, seed: 2);
        for (int c = 3; c < data.SfSlices.ColumnCount; c++) Assert.Equal(data.TrueSlices.Column(c), data.SfSlices.Column(c));

        var noisy = new SyntheticSliceOptions { BenignSliceCount = 5, BenignSfRecall = 0.8, BenignSfPrecision = 0.75 };
        var noisyData = new SyntheticSliceGenerator(noisy).Generate(10_000, seed: 2);
        for (int c = 3; c < noisyData.SfSlices.ColumnCount; c++)
        {
            int members = noisyData.TrueSlices.MemberCount(c), kept = Enumerable.Range(0, noisyData.Count).Count(i => noisyData.TrueSlices[i, c] && noisyData.SfSlices[i, c]);
            Assert.Equal(members - (int)Math.Round((1 - 0.8) * members, MidpointRounding.AwayFromZero), kept);
        }
    }

    [Fact]
    public void InvalidPrecisionRecallAndBenignRange_AreNamed()
    {
        var options = new SyntheticSliceOptions { SfRecall = 0, BenignSfPrecision = 1.5, BenignSliceFraction = 0.03, BenignSliceMaxFraction = 0.02 };
        var ex = Assert.Throws<ArgumentException>(() => new SyntheticSliceGenerator(options));
        Assert.Contains("SfRecall must be in (0, 1]; got 0.", ex.Message);
        Assert.Contains("BenignSfPrecision must be in (0, 1]; got 1.5.", ex.Message);
        Assert.Contains("BenignSliceMaxFraction must be in [BenignSliceFraction, 0.5]", ex.Message);
    }
}
