using SliceLearning.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace SliceLearning.Training;

/// <summary>
/// One optimisation step, the only place the trainer computes a loss, back-propagates and updates:
/// zero the gradients, loss (on the model's unchecked path: the trainer checked its data once),
/// backward, optional gradient-norm clipping, optimizer step. Returns the detached loss terms so
/// the caller reads them once per epoch instead of once per step.
/// </summary>
internal sealed class TrainingStep
{
    private readonly ITrainableModel _model;
    private readonly optim.Optimizer _optimizer;
    private readonly TorchSharp.Modules.Parameter[] _parameters;

    public TrainingStep(ITrainableModel model, optim.Optimizer optimizer)
    {
        _model = model;
        _optimizer = optimizer;
        _parameters = model.Module.parameters().ToArray();
        TermNames = model is SliceModelBase m ? m.LossTermNames : new[] { "loss" };
    }

    /// <summary>The names of the loss terms <see cref="Run"/> returns, the total first.</summary>
    public IReadOnlyList<string> TermNames { get; }

    /// <summary>When set, gradients are rescaled so that their global L2 norm is at most this value.</summary>
    public double? MaxGradientNorm { get; set; }

    /// <summary>Runs the step; returns the loss terms [T] (detached, in the caller's dispose scope), total first.</summary>
    public Tensor Run(Tensor features, Tensor labels, Tensor sliceMembership)
    {
        _optimizer.zero_grad();
        Tensor terms;
        if (_model is SliceModelBase model)
        {
            terms = model.BackwardCore(features, labels, sliceMembership);
        }
        else
        {
            var loss = _model.Loss(features, labels, sliceMembership);
            terms = loss.detach().reshape(1);
            loss.backward();
        }
        if (MaxGradientNorm is double max) nn.utils.clip_grad_norm_(_parameters, max);
        _optimizer.step();
        return terms;
    }
}
