namespace EdgeCollector.Sim.Scales;

/// <summary>Where in a load cycle a simulated reading lies.</summary>
public enum ScalePhase
{
    /// <summary>Empty scale at 0.</summary>
    Zero = 0,

    /// <summary>Material going on: weight rising in large steps, motion.</summary>
    Rising = 1,

    /// <summary>Swinging around the target by more than any sensible stable band, motion.</summary>
    Settling = 2,

    /// <summary>Exactly the target, no motion.</summary>
    Sitting = 3,

    /// <summary>Load coming off: weight falling, motion.</summary>
    Falling = 4,
}

/// <summary>One reading the simulated indicator shows.</summary>
/// <param name="GrossKg">Displayed gross weight.</param>
/// <param name="Motion">The indicator's motion flag (protocols without one drop it).</param>
/// <param name="Phase">Where in the cycle this reading is.</param>
/// <param name="Load">Index of the load (0-based); the zero phase before load k has index k.</param>
public readonly record struct ScaleSample(decimal GrossKg, bool Motion, ScalePhase Phase, int Load);

/// <summary>Timing and shape of simulated loads, in frames at <see cref="FrameRateHz"/>.</summary>
public sealed record ScaleScenarioOptions
{
    /// <summary>Frames per second the indicator sends.</summary>
    public double FrameRateHz { get; init; } = 20;

    /// <summary>Empty time before each load and after the last.</summary>
    public TimeSpan ZeroTime { get; init; } = TimeSpan.FromSeconds(0.4);

    /// <summary>Time the weight takes to rise.</summary>
    public TimeSpan RiseTime { get; init; } = TimeSpan.FromSeconds(0.4);

    /// <summary>Time the weight swings around the target.</summary>
    public TimeSpan SettleTime { get; init; } = TimeSpan.FromSeconds(0.4);

    /// <summary>Time the weight sits exactly at the target (must exceed the detector's StableSeconds).</summary>
    public TimeSpan SitTime { get; init; } = TimeSpan.FromSeconds(1.0);

    /// <summary>Time the weight takes to fall back to zero.</summary>
    public TimeSpan FallTime { get; init; } = TimeSpan.FromSeconds(0.3);

    /// <summary>
    /// Swing while settling, on top of up to <see cref="SettleNoiseKg"/> of noise, alternating above and
    /// below the target. With the default 5 kg it is wider than any sensible stable band, so no settling
    /// reading can start a stable run; a swing inside the band leaves only the motion flag to stop a ticket.
    /// </summary>
    public decimal SettleSwingKg { get; init; } = 5m;

    /// <summary>Largest random noise added to the swing while settling (in 0.1 kg steps).</summary>
    public decimal SettleNoiseKg { get; init; } = 1m;

    /// <summary>Seed of the settling noise.</summary>
    public int Seed { get; init; } = 1;
}

/// <summary>Builds the readings of loads rising, settling, sitting and returning to zero.</summary>
public static class ScaleScenario
{
    /// <summary>The readings for <paramref name="loadsKg"/> one after another, with zero before, between and after.</summary>
    public static IReadOnlyList<ScaleSample> Loads(IEnumerable<decimal> loadsKg, ScaleScenarioOptions? options = null)
    {
        options ??= new ScaleScenarioOptions();
        var random = new Random(options.Seed);
        var samples = new List<ScaleSample>();
        int Frames(TimeSpan t) => Math.Max(1, (int)Math.Round(t.TotalSeconds * options.FrameRateHz));
        int load = 0;
        foreach (decimal target in loadsKg)
        {
            for (int i = 0; i < Frames(options.ZeroTime); i++)
            {
                samples.Add(new(0m, false, ScalePhase.Zero, load));
            }

            int rise = Frames(options.RiseTime);
            for (int i = 1; i <= rise; i++)
            {
                samples.Add(new(Math.Round(target * i / (rise + 1)), true, ScalePhase.Rising, load));
            }

            int settle = Frames(options.SettleTime);
            for (int i = 0; i < settle; i++)
            {
                decimal noise = random.Next(0, (int)(options.SettleNoiseKg * 10) + 1) / 10m;
                decimal swing = (options.SettleSwingKg + noise) * (i % 2 == 0 ? 1 : -1);
                samples.Add(new(target + swing, true, ScalePhase.Settling, load));
            }

            for (int i = 0; i < Frames(options.SitTime); i++)
            {
                samples.Add(new(target, false, ScalePhase.Sitting, load));
            }

            int fall = Frames(options.FallTime);
            for (int i = 1; i <= fall; i++)
            {
                samples.Add(new(Math.Round(target * (fall + 1 - i) / (fall + 1)), true, ScalePhase.Falling, load));
            }

            load++;
        }

        for (int i = 0; i < Frames(options.ZeroTime); i++)
        {
            samples.Add(new(0m, false, ScalePhase.Zero, load));
        }

        return samples;
    }
}
