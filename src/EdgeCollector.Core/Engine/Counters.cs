using EdgeCollector.Core.Configuration;

namespace EdgeCollector.Core.Engine;

/// <summary>What one totaliser reading did (product.md "Counters").</summary>
public enum CounterOutcome
{
    /// <summary>The first reading: it only sets the baseline.</summary>
    Baseline,
    /// <summary>A delta was accepted over [From, To).</summary>
    Accepted,
    /// <summary>A second reading at the same instant: ignored.</summary>
    Ignored,
    /// <summary>The delta's rate exceeded MaxRatePerHour: rejected, the baseline stays.</summary>
    Rejected,
    /// <summary>The third rejection in a row: the reading became the new baseline; the jump is not counted.</summary>
    Rebased,
}

public readonly record struct CounterResult(CounterOutcome Outcome, long From, long To, double Delta, bool Reset, bool Rollover)
{
    public static CounterResult Of(CounterOutcome outcome, long from = 0, long to = 0) => new(outcome, from, to, 0, false, false);
}

/// <summary>Persistent state of one totaliser.</summary>
public sealed class CounterState
{
    public bool HasBaseline { get; set; }
    public long BaseTicks { get; set; }
    public double BaseValue { get; set; }
    public int RejectedRun { get; set; }
    public long LastSeenTicks { get; set; } = long.MinValue;
    /// <summary>First accepted reading (long.MaxValue before any).</summary>
    public long FirstAccepted { get; set; } = long.MaxValue;
    /// <summary>Latest accepted reading (long.MinValue before any).</summary>
    public long LastAccepted { get; set; } = long.MinValue;
}

/// <summary>Totaliser delta rules: rollover, reset, spike rejection and rebasing, as pure code.</summary>
public static class CounterLogic
{
    /// <summary>Consecutive rejected readings after which the latest becomes the new baseline.</summary>
    public const int RebaseAfter = 3;

    public static CounterResult Apply(CounterState s, long ticks, double value, double? max, double? maxRatePerHour)
    {
        if (!s.HasBaseline)
        {
            s.HasBaseline = true;
            s.BaseTicks = ticks;
            s.BaseValue = value;
            s.LastSeenTicks = ticks;
            s.FirstAccepted = ticks;
            s.LastAccepted = ticks;
            return CounterResult.Of(CounterOutcome.Baseline, ticks, ticks);
        }

        if (ticks == s.LastSeenTicks)
        {
            return CounterResult.Of(CounterOutcome.Ignored);
        }

        s.LastSeenTicks = ticks;
        double delta = value - s.BaseValue;
        bool reset = false, rollover = false;
        if (delta < 0)
        {
            if (max is double m)
            {
                delta = m - s.BaseValue + value;
                rollover = true;
            }
            else
            {
                delta = value;
                reset = true;
            }
        }

        if (maxRatePerHour is double maxRate)
        {
            double hours = (double)(ticks - s.BaseTicks) / EngineTime.TicksPerHour;
            if (delta / hours > maxRate)
            {
                long from = s.BaseTicks;
                s.RejectedRun++;
                if (s.RejectedRun >= RebaseAfter)
                {
                    s.RejectedRun = 0;
                    s.BaseTicks = ticks;
                    s.BaseValue = value;
                    s.LastAccepted = ticks;
                    return new CounterResult(CounterOutcome.Rebased, from, ticks, 0, reset, rollover);
                }

                return new CounterResult(CounterOutcome.Rejected, from, ticks, 0, reset, rollover);
            }
        }

        long t0 = s.BaseTicks;
        s.RejectedRun = 0;
        s.BaseTicks = ticks;
        s.BaseValue = value;
        s.LastAccepted = ticks;
        return new CounterResult(CounterOutcome.Accepted, t0, ticks, delta, reset, rollover);
    }
}

/// <summary>A value over time where each reading holds until the next (P, T, heel mass).</summary>
public sealed class StepSeries
{
    public List<TimedValue> Points { get; set; } = [];

    public void Add(long ticks, double value) => Points.Add(new TimedValue(ticks, value));

    /// <summary>The latest reading at or before <paramref name="ticks"/>, or null.</summary>
    public double? ValueAt(long ticks)
    {
        int i = LastIndexAtOrBefore(ticks);
        return i < 0 ? null : Points[i].Value;
    }

    /// <summary>Time-weighted mean over [t0, t1); before the first reading <paramref name="before"/> holds.</summary>
    public double MeanOver(long t0, long t1, double before)
    {
        if (t1 <= t0)
        {
            return ValueAt(t0) ?? before;
        }

        double sum = 0;
        long cursor = t0;
        int i = LastIndexAtOrBefore(t0);
        double current = i < 0 ? before : Points[i].Value;
        for (int j = i + 1; j < Points.Count && Points[j].Ticks < t1; j++)
        {
            sum += current * (Points[j].Ticks - cursor);
            cursor = Points[j].Ticks;
            current = Points[j].Value;
        }

        sum += current * (t1 - cursor);
        return sum / (t1 - t0);
    }

    /// <summary>Drops readings no longer needed: all before <paramref name="keepFrom"/> but the last one at or before it.</summary>
    public void Prune(long keepFrom)
    {
        int i = LastIndexAtOrBefore(keepFrom);
        if (i > 0)
        {
            Points.RemoveRange(0, i);
        }
    }

    private int LastIndexAtOrBefore(long ticks)
    {
        int lo = 0, hi = Points.Count - 1, found = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (Points[mid].Ticks <= ticks)
            {
                found = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return found;
    }
}

public readonly record struct TimedValue(long Ticks, double Value);

/// <summary>A load that rose above the zero band and came back within it without ever holding stable: no ticket.</summary>
public readonly record struct UnticketedLoad(long FirstTicks, long LastTicks, double PeakKg, int Readings);

/// <summary>
/// Stable-weight detection for one scale (product.md "Scale tickets"): a load starts above the
/// zero band; the ticket is made at the first reading that ends a run of non-motion readings,
/// all within the stable band, that began at least StableSeconds earlier; no new ticket until the
/// weight is back within the zero band.
/// </summary>
public sealed class ScaleTicketState
{
    public bool LoadActive { get; set; }
    public bool TicketMade { get; set; }
    /// <summary>The longest run of consecutive non-motion readings, ending at the latest, within the band.</summary>
    public List<TimedValue> Run { get; set; } = [];
    /// <summary>The active load: its first reading above the zero band, its latest reading, its peak and how many readings it had.</summary>
    public long LoadFirstTicks { get; set; }
    public long LoadLastTicks { get; set; }
    public double LoadPeakKg { get; set; }
    public int LoadReadings { get; set; }

    /// <returns>The ticket's (stableAt, grossKg) when this reading makes one.</returns>
    public TimedValue? Add(long ticks, double grossKg, bool? motion, double zeroBandKg, double stableBandKg, long stableTicks)
        => Add(ticks, grossKg, motion, zeroBandKg, stableBandKg, stableTicks, out _);

    /// <param name="unticketed">Set when this reading ends, back within the zero band, a load that never made a ticket.</param>
    /// <returns>The ticket's (stableAt, grossKg) when this reading makes one.</returns>
    public TimedValue? Add(long ticks, double grossKg, bool? motion, double zeroBandKg, double stableBandKg, long stableTicks, out UnticketedLoad? unticketed)
    {
        unticketed = null;
        if (motion == true)
        {
            Run.Clear();
        }
        else
        {
            Run.Add(new TimedValue(ticks, grossKg));
            while (Run.Count > 1 && Spread() > stableBandKg)
            {
                Run.RemoveAt(0);
            }

            if (Run.Count == 1 && Spread() > stableBandKg)
            {
                Run.Clear();
            }
        }

        if (Math.Abs(grossKg) <= zeroBandKg)
        {
            if (LoadActive && !TicketMade)
            {
                unticketed = new UnticketedLoad(LoadFirstTicks, LoadLastTicks, LoadPeakKg, LoadReadings);
            }

            LoadActive = false;
            TicketMade = false;
            return null;
        }

        if (!LoadActive && grossKg > zeroBandKg)
        {
            LoadActive = true;
            TicketMade = false;
            LoadFirstTicks = ticks;
            LoadPeakKg = grossKg;
            LoadReadings = 0;
        }

        if (LoadActive)
        {
            LoadLastTicks = ticks;
            LoadPeakKg = Math.Max(LoadPeakKg, grossKg);
            LoadReadings++;
        }

        if (LoadActive && !TicketMade && motion != true && Run.Count > 0 && Run[0].Ticks <= ticks - stableTicks)
        {
            TicketMade = true;
            return new TimedValue(ticks, grossKg);
        }

        return null;
    }

    private double Spread()
    {
        double min = double.MaxValue, max = double.MinValue;
        foreach (var p in Run)
        {
            min = Math.Min(min, p.Value);
            max = Math.Max(max, p.Value);
        }

        return max - min;
    }
}
