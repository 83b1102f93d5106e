namespace EdgeCollector.Scales;

/// <summary>What a decoded frame says about the load.</summary>
public enum ScaleFrameKind
{
    /// <summary>A weight value (gross and/or net) the indicator vouches for.</summary>
    Weight = 0,

    /// <summary>Over capacity or out of range (Toledo status B bit 2, MT-SICS <c>S +</c>, A&amp;D <c>OL</c>): no weight.</summary>
    Overload = 1,

    /// <summary>Under the lower limit (MT-SICS <c>S -</c>): no weight.</summary>
    Underload = 2,

    /// <summary>The indicator answered but has no weight to give (MT-SICS <c>S I</c>).</summary>
    NoReading = 3,
}

/// <summary>
/// One frame from a weight indicator, with every weight converted to kilograms.
/// </summary>
/// <param name="Kind">Whether the frame carries a weight at all.</param>
/// <param name="GrossKg">Gross weight; null when the frame carries only net or tare (XK3190-A12 <c>wn</c>/<c>wt</c>) or no weight.</param>
/// <param name="NetKg">Net weight when the frame says it is net.</param>
/// <param name="TareKg">Tare weight when the frame carries one.</param>
/// <param name="Motion">True while the weight is moving, false when stable, null when the protocol has no motion flag.</param>
public readonly record struct ScaleFrame(
    ScaleFrameKind Kind,
    decimal? GrossKg,
    decimal? NetKg = null,
    decimal? TareKg = null,
    bool? Motion = null)
{
    /// <summary>A gross-weight frame.</summary>
    public static ScaleFrame Gross(decimal grossKg, bool? motion = null) => new(ScaleFrameKind.Weight, grossKg, Motion: motion);

    /// <summary>A frame without a weight (overload, underload, no reading).</summary>
    public static ScaleFrame Without(ScaleFrameKind kind, bool? motion = null) =>
        kind == ScaleFrameKind.Weight
            ? throw new ArgumentOutOfRangeException(nameof(kind), kind, "A weight frame needs a weight.")
            : new(kind, null, Motion: motion);
}
