using EdgeCollector.Core.Configuration;

namespace EdgeCollector.Simulators.Plant;

/// <summary>What a furnace is doing; it sets the firing rate of its meters.</summary>
public enum FurnacePhase
{
    /// <summary>Empty or waiting for the next heat: pilot burners, fans.</summary>
    Idle,
    /// <summary>Scrap going in; the burners fire hard between charges.</summary>
    Charging,
    /// <summary>Full fire until the charge is liquid.</summary>
    Melting,
    /// <summary>Liquid metal kept at temperature.</summary>
    Holding,
    /// <summary>Metal tapped into ladles.</summary>
    Tapping,
    /// <summary>Dross skimmed off the bath.</summary>
    Skimming,
}

/// <summary>One reading a weight indicator sends (1 Hz while a load is on the scale).</summary>
/// <param name="Ticks">UTC ticks of the reading.</param>
/// <param name="GrossKg">Gross weight.</param>
/// <param name="Motion">The indicator's motion flag.</param>
public readonly record struct ScaleReading(long Ticks, double GrossKg, bool Motion);

/// <summary>
/// One load on a scale: rise (in motion), settle (identical readings, no motion), removal (in
/// motion), a few zero readings. The ticket the collector must make from it is
/// (<see cref="StableAt"/>, <see cref="Kg"/>).
/// </summary>
public sealed class Weighing
{
    /// <summary>Furnace index (0-based).</summary>
    public required int Furnace { get; init; }

    /// <summary>1-based heat number of the furnace the weighing belongs to.</summary>
    public required int Heat { get; init; }

    /// <summary>Scale source name (<c>F1-charge</c> …).</summary>
    public required string Scale { get; init; }

    /// <summary>What the scale weighs.</summary>
    public required ScaleKind Kind { get; init; }

    /// <summary>Material of a charge (the operator picks it before the load); null for taps and dross.</summary>
    public Material? Material { get; init; }

    /// <summary>The settled weight: the ticket's gross and net kg.</summary>
    public required double Kg { get; init; }

    /// <summary>Every reading of the load, in time order.</summary>
    public required IReadOnlyList<ScaleReading> Readings { get; init; }

    /// <summary>When the ticket is made (product.md "Scale tickets").</summary>
    public required long StableAt { get; init; }

    /// <summary>Whether the whole load lies inside the period and is in the recording.</summary>
    public bool Recorded { get; internal set; }
}

/// <summary>An operator's material pick in the recording.</summary>
/// <param name="Ticks">When it was picked.</param>
/// <param name="Furnace">Furnace index.</param>
/// <param name="Material">The material picked.</param>
/// <param name="For">The charge it was picked for.</param>
public sealed record MaterialPick(long Ticks, int Furnace, Material Material, Weighing For);

/// <summary>A furnace phase from <see cref="Start"/> until the next span starts.</summary>
/// <param name="Start">UTC ticks (a whole second).</param>
/// <param name="Phase">What the furnace does.</param>
/// <param name="Heat">1-based heat number whose firing plan applies (0 before the first heat).</param>
public readonly record struct PhaseSpan(long Start, FurnacePhase Phase, int Heat);

/// <summary>
/// A totaliser of the scenario. Consumption is piecewise constant: interval k is
/// [GridStart + k·Step, GridStart + (k+1)·Step), its increment (in thousandths of the unit)
/// spread uniformly over it; the meter is read at every grid instant. Integrating this model
/// over any interval is exact, and equals what uniform spreading of the read deltas gives.
/// </summary>
public sealed class MeterSeries
{
    /// <summary>Tag name (<c>F1.GasTotal</c>, <c>F1.PowerTotal</c>, <c>Aux.PowerTotal</c>).</summary>
    public required string Tag { get; init; }

    /// <summary>Unit of the tag (<c>Nm3</c> or <c>kWh</c>).</summary>
    public required string Unit { get; init; }

    /// <summary>Furnace index, or −1 for the site's auxiliary meter.</summary>
    public required int Furnace { get; init; }

    /// <summary>UTC ticks of the first read.</summary>
    public required long GridStart { get; init; }

    /// <summary>Ticks between reads.</summary>
    public required long Step { get; init; }

    /// <summary>Totaliser value at the first read, in thousandths of the unit.</summary>
    public required long InitialMilli { get; init; }

    /// <summary>Consumption of each interval, in thousandths of the unit.</summary>
    public required long[] IncrementsMilli { get; init; }

    /// <summary>The totaliser as read at every grid instant: <see cref="IncrementsMilli"/>.Length + 1 values.</summary>
    public double[] ReadValues()
    {
        var values = new double[IncrementsMilli.Length + 1];
        long milli = InitialMilli;
        values[0] = milli / 1000.0;
        for (int k = 0; k < IncrementsMilli.Length; k++)
        {
            milli += IncrementsMilli[k];
            values[k + 1] = milli / 1000.0;
        }

        return values;
    }

    /// <summary>Consumption over [<paramref name="from"/>, <paramref name="to"/>), clipped to the simulated grid.</summary>
    public double Integrate(long from, long to)
    {
        long gridEnd = GridStart + Step * IncrementsMilli.Length;
        from = Math.Max(from, GridStart);
        to = Math.Min(to, gridEnd);
        if (to <= from)
        {
            return 0;
        }

        int first = (int)((from - GridStart) / Step);
        int last = (int)((to - 1 - GridStart) / Step);
        double sum = 0;
        for (int k = first; k <= last; k++)
        {
            long lo = Math.Max(from, GridStart + k * Step);
            long hi = Math.Min(to, GridStart + (k + 1) * Step);
            sum += IncrementsMilli[k] / 1000.0 * ((double)(hi - lo) / Step);
        }

        return sum;
    }
}

/// <summary>One furnace over the scenario: its heats, loads, picks, phases and meters.</summary>
public sealed class FurnaceRun
{
    /// <summary>Furnace index (0-based).</summary>
    public required int Index { get; init; }

    /// <summary>Furnace id (<c>F1</c> …).</summary>
    public required string Id { get; init; }

    /// <summary>Every planned load, in time order (some may fall after the period and not be recorded).</summary>
    public List<Weighing> Weighings { get; } = [];

    /// <summary>Operator material picks, in time order.</summary>
    public List<MaterialPick> Picks { get; } = [];

    /// <summary>Phases in time order; the first starts at the period start.</summary>
    public List<PhaseSpan> Phases { get; } = [];

    /// <summary>The gas totaliser (Nm3).</summary>
    public MeterSeries Gas { get; internal set; } = null!;

    /// <summary>The electricity totaliser (kWh).</summary>
    public MeterSeries Power { get; internal set; } = null!;

    /// <summary>The phase in force at <paramref name="ticks"/>.</summary>
    public PhaseSpan PhaseAt(long ticks)
    {
        var current = Phases[0];
        foreach (var span in Phases)
        {
            if (span.Start > ticks)
            {
                break;
            }

            current = span;
        }

        return current;
    }
}
