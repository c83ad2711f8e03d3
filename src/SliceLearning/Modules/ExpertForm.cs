namespace SliceLearning.Modules;

/// <summary>How the slice experts compute their representations r_i from the backbone representation z [B, d].</summary>
public enum ExpertForm
{
    /// <summary>
    /// r_i = z W_i + b_i with W_i [d, h] initialised like <c>nn.Linear(d, h)</c> (the paper's section 3.2 (c)).
    /// At the start the attended representation z' is a random projection of z.
    /// </summary>
    Projection = 0,

    /// <summary>
    /// r_i = z + z W_i + b_i with W_i [d, d] and b_i starting at 0 (needs h = d): every expert learns a
    /// residual around z, so at the start z' = Σ a_i r_i = z and the model predicts like the backbone with
    /// a linear head (a VANILLA model); experts move away from z only as far as the losses pull them.
    /// </summary>
    Residual,

    /// <summary>
    /// r_i = z + (z A_i) B_i + b_i with A_i [d, r] initialised like <c>nn.Linear(d, r)</c> and B_i [r, d], b_i
    /// starting at 0 (needs h = d; r is <c>SliceAwareOptions.ExpertRank</c>): a residual expert whose
    /// correction has rank at most r, with 2·d·r instead of d² weights per expert (LoRA-style). Like
    /// <see cref="Residual"/> it starts as z' = z (a VANILLA model with heads); a rank-1 correction can still
    /// move z along the prediction head's direction by an amount driven by one feature of z.
    /// </summary>
    LowRankResidual,
}
