using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using SliceLearning.Modules;
using SliceLearning.Slicing;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SliceLearning.Models;

/// <summary>
/// What every SliceLearning model (<see cref="SliceAwareModel"/>, <see cref="VanillaModel"/>,
/// <see cref="HardParameterSharingModel"/>, <see cref="ManualReweightingModel"/>,
/// <see cref="MixtureOfExpertsModel"/>) shares: a TorchSharp module whose forward pass gives class
/// logits [B, C], its backbone width, class count and slice names, the shape checks of the public
/// <see cref="Loss"/> and <see cref="Logits"/>, and the description a checkpoint stores. Only this
/// library derives from it.
/// </summary>
public abstract class SliceModelBase : nn.Module<Tensor, Tensor>, ITrainableModel
{
    internal static readonly JsonSerializerOptions OptionsJson = new()
    {
        WriteIndented = false,
        Converters = { new JsonStringEnumConverter() },
    };

    private readonly string[] _sliceNames;
    private bool _disposed;

    private protected SliceModelBase(string name, long backboneWidth, int numClasses, string[] sliceNames)
        : base(name)
    {
        BackboneWidth = backboneWidth;
        NumClasses = numClasses;
        _sliceNames = sliceNames;
    }

    /// <inheritdoc />
    public nn.Module Module => this;

    /// <inheritdoc />
    public int NumClasses { get; }

    /// <summary>
    /// The slice names the model was built for, base slice first (m = k + 1), or an empty list
    /// for <see cref="VanillaModel"/>, which ignores slices.
    /// </summary>
    public IReadOnlyList<string> SliceNames => _sliceNames;

    /// <summary>d, the width of the backbone's output representation.</summary>
    public long BackboneWidth { get; }

    /// <summary>True once the model has been disposed.</summary>
    public bool IsDisposed => _disposed;

    /// <summary>
    /// Serialises changes of the train/eval flag: prediction switches the model to evaluation
    /// mode and back, and the trainer to training mode, under this lock, so concurrent calls never
    /// leave the flag wrong.
    /// </summary>
    internal object ModeLock { get; } = new();

    /// <summary>Class logits [B, C]; needs no slice membership. Checks the batch shape first.</summary>
    /// <exception cref="SliceDataException">The batch is empty or does not fit the backbone.</exception>
    public sealed override Tensor forward(Tensor input)
    {
        CheckFeatures(input);
        return LogitsCore(input);
    }

    /// <inheritdoc />
    public Tensor Logits(Tensor features) => call(features);

    /// <summary>
    /// The scalar training loss of one batch (see each model's remarks for its terms), after
    /// checking the batch: non-empty, labels [B] int64 in [0, C), membership [B, m] for the model's
    /// slices.
    /// </summary>
    /// <exception cref="SliceDataException">The batch does not fit the model; the message names the row or shape.</exception>
    public Tensor Loss(Tensor features, Tensor labels, Tensor sliceMembership)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        CheckBatch(features, labels, sliceMembership);
        return LossCore(features, labels, sliceMembership);
    }

    /// <summary>
    /// Saves the weights, slice names, sizes and options atomically; loading verifies the whole
    /// file first (see <see cref="Training.ModelCheckpoint"/>).
    /// </summary>
    /// <param name="path">The checkpoint file; replaced only when the new file is complete.</param>
    /// <exception cref="ObjectDisposedException">The model has been disposed; the file is not touched.</exception>
    public void Save(string path) => Training.ModelCheckpoint.Save(this, path);

    /// <summary>What every public member that takes features checks first: the model is not disposed and the batch is non-empty.</summary>
    private protected void CheckFeatures(Tensor features)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ModelInputChecks.Features(features);
    }

    /// <summary>The checks of <see cref="Loss"/>, without computing it.</summary>
    internal void CheckBatch(Tensor features, Tensor labels, Tensor sliceMembership)
    {
        ModelInputChecks.Features(features);
        long b = features.shape[0];
        ModelInputChecks.Labels(labels, b, NumClasses);
        if (_sliceNames.Length > 0) ModelInputChecks.Membership(sliceMembership, b, _sliceNames);
    }

    /// <summary>Class logits without the public checks (the trainer checks its data once per data set).</summary>
    internal abstract Tensor LogitsCore(Tensor features);

    /// <summary>The loss without the public checks (the trainer checks its data once per data set).</summary>
    internal abstract Tensor LossCore(Tensor features, Tensor labels, Tensor sliceMembership);

    /// <summary>
    /// The loss and the class logits of one batch from one forward pass (validation). Unchecked;
    /// both tensors escape to the caller's scope.
    /// </summary>
    internal virtual (Tensor Loss, Tensor Logits) LossAndLogitsCore(Tensor features, Tensor labels, Tensor sliceMembership)
    {
        // Models whose loss and logits come from different heads override this; the default runs both.
        return (LossCore(features, labels, sliceMembership), LogitsCore(features));
    }

    /// <summary>The names of the loss terms of <see cref="LossWithTermsCore"/>, the total first.</summary>
    internal virtual IReadOnlyList<string> LossTermNames { get; } = new[] { "loss" };

    /// <summary>The loss and its terms [T] (detached, total first; see <see cref="LossTermNames"/>). Unchecked.</summary>
    internal virtual (Tensor Loss, Tensor Terms) LossWithTermsCore(Tensor features, Tensor labels, Tensor sliceMembership)
    {
        var loss = LossCore(features, labels, sliceMembership);
        return (loss, loss.detach().reshape(1));
    }

    /// <summary>The model's options as one JSON object (every public setting), or an empty object.</summary>
    /// <summary>
    /// The trainer's forward and backward pass for one batch: back-propagates the training loss into the parameters'
    /// gradients and returns the detached terms [T] (<see cref="LossTermNames"/>, total first).
    /// </summary>
    internal virtual Tensor BackwardCore(Tensor features, Tensor labels, Tensor sliceMembership)
    {
        var (loss, terms) = LossWithTermsCore(features, labels, sliceMembership);
        loss.backward();
        return terms;
    }

    internal abstract JsonObject DescribeOptions();

    /// <summary>Serialises an options object: every public property, enums by name.</summary>
    private protected static JsonObject OptionsToJson<TOptions>(TOptions options) =>
        JsonSerializer.SerializeToNode(options, OptionsJson)!.AsObject();

    /// <summary>Reads an options object written by <see cref="OptionsToJson"/>.</summary>
    internal static TOptions OptionsFromJson<TOptions>(JsonObject? json, string path) where TOptions : new()
    {
        if (json is null) return new TOptions();
        try
        {
            return json.Deserialize<TOptions>(OptionsJson) ?? new TOptions();
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"The checkpoint '{path}' has options that do not fit {typeof(TOptions).Name}: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Runs <paramref name="backbone"/> on <paramref name="features"/> and checks its output is
    /// [B, <see cref="BackboneWidth"/>]. A backbone that rejects the features' shape fails with a
    /// <see cref="SliceDataException"/> giving the shape it got (and, for a leading Linear layer,
    /// the width it expects) instead of a native error.
    /// </summary>
    private protected Tensor RunBackbone(nn.Module<Tensor, Tensor> backbone, Tensor features)
    {
        Tensor z;
        try
        {
            z = backbone.call(features);
        }
        catch (Exception ex) when (ex is ExternalException or ArgumentException && ex is not SliceDataException)
        {
            string expected = FirstLinearInputs(backbone) is long inputs
                ? string.Create(CultureInfo.InvariantCulture, $"Its first Linear layer expects {inputs} features per row; got {features.shape[^1]}. ")
                : "";
            throw new SliceDataException(
                $"The backbone could not take features of shape [{Shape(features)}]. {expected}" +
                $"Featurize the data to the width the backbone was built for. Backbone error: {FirstLine(ex.Message)}",
                nameof(features), innerException: ex);
        }
        if (z.dim() != 2 || z.shape[1] != BackboneWidth)
        {
            string got = Shape(z);
            z.Dispose();
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"The backbone output is [{got}], but the model was created with backboneWidth = {BackboneWidth}: expected [B, {BackboneWidth}]. Pass the width the backbone really outputs."));
        }
        return z;
    }

    /// <summary>
    /// The <c>Create</c> path of a model with options: checks the backbone, sizes and slice names,
    /// applies <paramref name="configure"/> to fresh options, validates them and builds the model on a copy.
    /// </summary>
    private protected static TModel CreateWithOptions<TBackbone, TModel, TOptions>(TBackbone backbone, long backboneWidth, int numClasses,
        IReadOnlyList<string> sliceNames, Action<TOptions>? configure, Func<TBackbone, long, int, string[], TOptions, TModel> construct)
        where TBackbone : class
        where TOptions : class, IModelOptions<TOptions>, new()
    {
        ArgumentNullException.ThrowIfNull(backbone);
        CheckSizes(backboneWidth, numClasses);
        var names = CheckSliceNames(sliceNames);
        var options = new TOptions();
        configure?.Invoke(options);
        options.Validate(names);
        return construct(backbone, backboneWidth, numClasses, names, options.Clone());
    }

    /// <summary>
    /// The <c>Load</c> path of a model with options: rebuilds it over <paramref name="backbone"/> from the
    /// checkpoint's width, classes, slice names and (validated) options, then loads the weights (see
    /// <see cref="Training.ModelCheckpoint"/>).
    /// </summary>
    private protected static TModel LoadWithOptions<TBackbone, TModel, TOptions>(string path, TBackbone backbone,
        Func<TBackbone, long, int, string[], TOptions, TModel> construct)
        where TBackbone : class
        where TModel : ITrainableModel
        where TOptions : class, IModelOptions<TOptions>, new()
    {
        ArgumentNullException.ThrowIfNull(backbone);
        return Training.ModelCheckpoint.Recreate(path, info =>
        {
            var names = CheckSliceNames(info.SliceNames);
            var options = OptionsFromJson<TOptions>(info.Options, path);
            options.Validate(names);
            return construct(backbone, info.RequireBackboneWidth(path), info.NumClasses, names, options);
        });
    }

    /// <summary>Model slice names: base first, SF names validated.</summary>
    private protected static string[] CheckSliceNames(IReadOnlyList<string> sliceNames) => SliceNameRules.WithBase(sliceNames);

    /// <summary>The size checks every model's <c>Create</c> makes.</summary>
    private protected static void CheckSizes(long backboneWidth, int numClasses)
    {
        if (backboneWidth < 1)
            throw new ArgumentOutOfRangeException(nameof(backboneWidth), backboneWidth, "The backbone width d must be at least 1.");
        if (numClasses < 2)
            throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, "A classifier needs at least 2 classes (use 2 for a binary task).");
    }

    /// <summary>The output width a backbone declares.</summary>
    private protected static long WidthOf<TBackbone>(TBackbone backbone) where TBackbone : nn.Module<Tensor, Tensor>, IBackbone
    {
        ArgumentNullException.ThrowIfNull(backbone);
        return backbone.OutputWidth;
    }

    /// <summary>Disposes the model's tensors; later calls throw <see cref="ObjectDisposedException"/>.</summary>
    protected override void Dispose(bool disposing)
    {
        _disposed = true;
        base.Dispose(disposing);
    }

    internal static string Shape(Tensor t) => string.Join(", ", t.shape);

    private static string FirstLine(string message)
    {
        int end = message.IndexOfAny(new[] { '\r', '\n' });
        return end < 0 ? message : message[..end];
    }

    private static long? FirstLinearInputs(nn.Module module)
    {
        foreach (var (_, child) in module.named_modules())
        {
            if (child is Linear linear) return linear.in_features;
            if (child.parameters(recurse: false).Any()) return null;
        }
        return null;
    }
}
