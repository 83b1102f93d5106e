using EdgeCollector.Core.Configuration;
using EdgeCollector.Core.Engine;

namespace EdgeCollector.Simulators.Plant;

/// <summary>
/// A deterministic melt shop: N furnaces cycling ticket-driven heats over a period, as the
/// collector would record it (contracts.md §3), together with the plan it came from so the
/// ground truth can be computed from the scenario's own model, not from the engine.
/// </summary>
/// <remarks>
/// Each heat: 3–5 scrap charges (an operator material pick before each charge whose material
/// differs from the furnace's last pick), melting (sometimes with an alloying addition),
/// holding, 1–2 taps (melt loss 2–4 %), dross skimming (≈ 2 % of the charge), idle; the next
/// heat's first charge comes after the taps, so it closes the heat (product.md "Heats without
/// PLC signals"). Meters fire at a rate that is constant between two meter reads (domain-
/// defaults.md "Melting benchmarks": 70–90 Nm3 and 90–100 kWh per tonne tapped, with noise).
/// No wall clock and no sleeping: every timestamp is generated.
/// </remarks>
public sealed class PlantScenario
{
    private const long Second = TimeSpan.TicksPerSecond;
    private const long Millisecond = TimeSpan.TicksPerMillisecond;

    /// <summary>Weighted firing seconds of a heat that has no plan inside the period.</summary>
    private const double NominalHeatSeconds = 7200;

    private readonly ScenarioOptions _o;

    /// <summary>A scenario for <paramref name="options"/> (validated here).</summary>
    public PlantScenario(ScenarioOptions options)
    {
        options.Validate();
        _o = options;
    }

    /// <summary>The options this scenario simulates.</summary>
    public ScenarioOptions Options => _o;

    /// <summary>Gas firing weight of a phase (relative to full fire while melting).</summary>
    public static double GasWeight(FurnacePhase phase) => phase switch
    {
        FurnacePhase.Charging => 0.85,
        FurnacePhase.Melting => 1.0,
        FurnacePhase.Holding => 0.3,
        FurnacePhase.Tapping => 0.2,
        FurnacePhase.Skimming => 0.2,
        _ => 0.06,
    };

    /// <summary>Electricity weight of a phase (fans, pumps, stirring, charging machine).</summary>
    public static double PowerWeight(FurnacePhase phase) => phase switch
    {
        FurnacePhase.Charging => 1.0,
        FurnacePhase.Melting => 1.0,
        FurnacePhase.Holding => 0.55,
        FurnacePhase.Tapping => 0.7,
        FurnacePhase.Skimming => 0.7,
        _ => 0.35,
    };

    /// <summary>Runs the scenario. The same options always give the same result, to the bit.</summary>
    public ScenarioResult Generate()
    {
        long start = _o.Start.UtcTicks;
        long end = _o.End.UtcTicks;
        long step = _o.MeterReadSeconds * Second;
        int intervals = (int)((end - start) / step);

        var runs = new List<FurnaceRun>();
        for (int f = 0; f < _o.Furnaces; f++)
        {
            var run = PlanFurnace(f, start, end, out var budgets);
            BuildFurnaceMeters(run, budgets, start, step, intervals);
            MarkRecorded(run, end);
            runs.Add(run);
        }

        var aux = BuildAuxMeter(runs, start, step, intervals);
        return new ScenarioResult(_o, runs, aux, BuildRecords(runs, aux, intervals));
    }

    // ------------------------------------------------------------------ plan

    /// <summary>Gas (Nm3) and electricity (kWh) a heat is planned to use, from its first charge to the next heat's.</summary>
    private readonly record struct HeatBudget(double GasNm3, double KWh);

    private static int Derive(int seed, int furnace, int stream) => unchecked((seed * 7919) + (furnace * 104729) + (stream * 15485863));

    private FurnaceRun PlanFurnace(int f, long start, long end, out List<HeatBudget> budgets)
    {
        var rng = new Random(Derive(_o.Seed, f, 1));
        var run = new FurnaceRun { Index = f, Id = _o.FurnaceIds[f] };
        budgets = [];
        run.Phases.Add(new PhaseSpan(start, FurnacePhase.Idle, 0));

        // Furnaces start their first heats staggered, as a shop's crane and charging machine allow.
        long t = start + Seconds(rng.Next(120, 481) + (f * rng.Next(900, 1501)));
        Material? lastPick = null;
        int heat = 0;
        while (t < end)
        {
            heat++;
            double chargedKg = 0;
            run.Phases.Add(new PhaseSpan(t, FurnacePhase.Charging, heat));
            int scrapCharges = rng.Next(3, 6);
            for (int i = 0; i < scrapCharges; i++)
            {
                var (material, kg) = ScrapCharge(rng);
                chargedKg += kg;
                t = Charge(run, rng, heat, material, kg, t, ref lastPick);
                if (i < scrapCharges - 1)
                {
                    t += Seconds(rng.Next(360, 841));
                }
            }

            t += Seconds(rng.Next(180, 361));
            run.Phases.Add(new PhaseSpan(t, FurnacePhase.Melting, heat));
            int meltSeconds = rng.Next(2100, 3601);
            if (rng.NextDouble() < 0.5)
            {
                // An alloying addition (Si, Mg, master alloy) once the charge is mostly liquid.
                double kg = rng.Next(60, 351);
                chargedKg += kg;
                Charge(run, rng, heat, Material.Alloying, kg, t + Seconds(meltSeconds * 6 / 10), ref lastPick);
            }

            t += Seconds(meltSeconds);
            run.Phases.Add(new PhaseSpan(t, FurnacePhase.Holding, heat));
            t += Seconds(rng.Next(600, 1201));

            run.Phases.Add(new PhaseSpan(t, FurnacePhase.Tapping, heat));
            double meltLoss = 0.02 + (0.02 * rng.NextDouble());
            double tappedKg = Math.Round(chargedKg * (1 - meltLoss));
            int taps = rng.Next(1, 3);
            double first = taps == 1 ? tappedKg : Math.Round(tappedKg * (0.45 + (0.15 * rng.NextDouble())));
            t += Seconds(rng.Next(30, 91));
            t = NextSecond(Weigh(run, rng, heat, ScaleKind.Tap, null, first, t).Readings[^1].Ticks);
            if (taps == 2)
            {
                t += Seconds(rng.Next(180, 361));
                t = NextSecond(Weigh(run, rng, heat, ScaleKind.Tap, null, tappedKg - first, t).Readings[^1].Ticks);
            }

            t += Seconds(60);
            run.Phases.Add(new PhaseSpan(t, FurnacePhase.Skimming, heat));
            t += Seconds(rng.Next(300, 541));
            double drossKg = Math.Round(chargedKg * (0.016 + (0.008 * rng.NextDouble())));
            t = NextSecond(Weigh(run, rng, heat, ScaleKind.Dross, null, drossKg, t).Readings[^1].Ticks);

            run.Phases.Add(new PhaseSpan(t, FurnacePhase.Idle, heat));
            t += Seconds(rng.Next(300, 1201));

            double tonnes = tappedKg / 1000.0;
            budgets.Add(new HeatBudget(tonnes * (70 + (20 * rng.NextDouble())), tonnes * (90 + (10 * rng.NextDouble()))));
        }

        if (heat == 0)
        {
            // The period ends before this furnace's first heat: it idles at a nominal 20 t heat's rates.
            budgets.Add(new HeatBudget(20 * 80, 20 * 95));
        }

        // The last heat's idle ends where a next heat would begin.
        run.Phases.Add(new PhaseSpan(t, FurnacePhase.Charging, heat + 1));
        return run;
    }

    private static (Material Material, double Kg) ScrapCharge(Random rng)
    {
        double u = rng.NextDouble();
        var material = u switch
        {
            < 0.30 => Material.PostConsumerOther,
            < 0.50 => Material.PostConsumerUbc,
            < 0.72 => Material.PreConsumer,
            < 0.88 => Material.Internal,
            _ => Material.Primary,
        };
        double kg = material == Material.Primary ? rng.Next(1500, 4001) : rng.Next(3000, 7001);
        return (material, kg);
    }

    private long Charge(FurnaceRun run, Random rng, int heat, Material material, double kg, long t, ref Material? lastPick)
    {
        bool pick = lastPick != material;
        var weighing = Weigh(run, rng, heat, ScaleKind.Charge, material, kg, t + Seconds(rng.Next(5, 21)));
        if (pick)
        {
            run.Picks.Add(new MaterialPick(t, run.Index, material, weighing));
            lastPick = material;
        }

        return NextSecond(weighing.Readings[^1].Ticks);
    }

    /// <summary>One load at 1 Hz: a zero, the rise in motion, the settled weight, the removal in motion, three zeros.</summary>
    private Weighing Weigh(FurnaceRun run, Random rng, int heat, ScaleKind kind, Material? material, double kg, long t)
    {
        // Each indicator sends at its own phase within the second, so stableAt carries milliseconds.
        long at = t + (((100 + (250 * (int)kind) + (10 * run.Index)) % 1000) * Millisecond);
        var readings = new List<ScaleReading> { new(at, 0, false) };
        (int rise, double jitter) = kind switch
        {
            ScaleKind.Charge => (rng.Next(4, 9), 0.04),
            ScaleKind.Tap => (rng.Next(60, 121), 0.02),
            _ => (rng.Next(5, 11), 0.04),
        };
        double floor = Math.Floor(_o.ZeroBandKg) + 1;
        for (int j = 1; j <= rise; j++)
        {
            at += Second;
            double w = Math.Round(kg * j / rise * (1 + (jitter * ((2 * rng.NextDouble()) - 1))));
            readings.Add(new ScaleReading(at, Math.Max(w, floor), true));
        }

        // The floor leaves the random draw (and so every later draw) unchanged.
        int settle = Math.Max(rng.Next(kind == ScaleKind.Tap ? 5 : 4, 10), _o.MinSettleReadings);
        for (int j = 0; j < settle; j++)
        {
            at += Second;
            readings.Add(new ScaleReading(at, kg, false));
        }

        int removal = rng.Next(2, 5);
        for (int j = 1; j <= removal; j++)
        {
            at += Second;
            readings.Add(new ScaleReading(at, Math.Max(Math.Round(kg * (1 - ((double)j / (removal + 1)))), floor), true));
        }

        for (int j = 0; j < 3; j++)
        {
            at += Second;
            readings.Add(new ScaleReading(at, 0, false));
        }

        long stableAt = StableAt(readings) ?? throw new InvalidOperationException("a simulated load never settled");
        var weighing = new Weighing
        {
            Furnace = run.Index,
            Heat = heat,
            Scale = ScenarioOptions.ScaleName(run.Id, kind),
            Kind = kind,
            Material = material,
            Kg = kg,
            Readings = readings,
            StableAt = stableAt,
        };
        run.Weighings.Add(weighing);
        return weighing;
    }

    /// <summary>
    /// product.md "Scale tickets", read from the scenario's side: the first reading t above the
    /// zero band that ends a run of non-motion readings within the stable band starting at or
    /// before t − StableSeconds.
    /// </summary>
    private long? StableAt(List<ScaleReading> readings)
    {
        long stable = (long)(_o.StableSeconds * Second);
        for (int i = 0; i < readings.Count; i++)
        {
            var r = readings[i];
            if (r.Motion || r.GrossKg <= _o.ZeroBandKg)
            {
                continue;
            }

            double min = r.GrossKg, max = r.GrossKg;
            for (int j = i; j >= 0 && !readings[j].Motion; j--)
            {
                min = Math.Min(min, readings[j].GrossKg);
                max = Math.Max(max, readings[j].GrossKg);
                if (max - min > _o.StableBandKg)
                {
                    break;
                }

                if (readings[j].Ticks <= r.Ticks - stable)
                {
                    return r.Ticks;
                }
            }
        }

        return null;
    }

    private static void MarkRecorded(FurnaceRun run, long end)
    {
        // A load is in the recording only if it is over (back at zero) before the period ends,
        // and every load of the furnace before it is too: the recording stops cleanly.
        bool cut = false;
        foreach (var w in run.Weighings.OrderBy(w => w.Readings[0].Ticks))
        {
            cut |= w.Readings[^1].Ticks >= end;
            w.Recorded = !cut;
        }
    }

    // ------------------------------------------------------------------ meters

    private void BuildFurnaceMeters(FurnaceRun run, List<HeatBudget> budgets, long start, long step, int intervals)
    {
        var rng = new Random(Derive(_o.Seed, run.Index, 2));

        // Firing rate per weighted second of each heat, so a heat uses its budget from its first charge to the next.
        int heats = budgets.Count;
        var gasWeighted = new double[heats];
        var powerWeighted = new double[heats];
        for (int i = 0; i < run.Phases.Count - 1; i++)
        {
            var span = run.Phases[i];
            if (span.Heat is < 1 || span.Heat > heats)
            {
                continue;
            }

            double seconds = (double)(run.Phases[i + 1].Start - span.Start) / Second;
            gasWeighted[span.Heat - 1] += GasWeight(span.Phase) * seconds;
            powerWeighted[span.Heat - 1] += PowerWeight(span.Phase) * seconds;
        }

        var gas = new long[intervals];
        var power = new long[intervals];
        double stepSeconds = (double)step / Second;
        for (int k = 0; k < intervals; k++)
        {
            // The rate changes only at a meter read, so a read delta spread uniformly is the truth.
            // Before the first heat the furnace idles at the first heat's rates.
            var span = run.PhaseAt(start + (k * step));
            int h = Math.Clamp(span.Heat, 1, heats) - 1;
            double gasRate = budgets[h].GasNm3 / (gasWeighted[h] > 0 ? gasWeighted[h] : NominalHeatSeconds) * GasWeight(span.Phase);
            double powerRate = budgets[h].KWh / (powerWeighted[h] > 0 ? powerWeighted[h] : NominalHeatSeconds) * PowerWeight(span.Phase);
            gas[k] = (long)Math.Round(gasRate * stepSeconds * 1000 * (1 + (0.08 * ((2 * rng.NextDouble()) - 1))));
            power[k] = (long)Math.Round(powerRate * stepSeconds * 1000 * (1 + (0.05 * ((2 * rng.NextDouble()) - 1))));
        }

        run.Gas = new MeterSeries
        {
            Tag = run.Id + ".GasTotal", Unit = "Nm3", Furnace = run.Index, GridStart = start, Step = step,
            InitialMilli = (rng.Next(100_000, 9_000_000) * 1000L) + rng.Next(0, 1000), IncrementsMilli = gas,
        };
        run.Power = new MeterSeries
        {
            Tag = run.Id + ".PowerTotal", Unit = "kWh", Furnace = run.Index, GridStart = start, Step = step,
            InitialMilli = (rng.Next(100_000, 9_000_000) * 1000L) + rng.Next(0, 1000), IncrementsMilli = power,
        };
    }

    private MeterSeries BuildAuxMeter(List<FurnaceRun> runs, long start, long step, int intervals)
    {
        var rng = new Random(Derive(_o.Seed, 0, 3));
        var aux = new long[intervals];
        double stepHours = (double)step / TimeSpan.TicksPerHour;
        for (int k = 0; k < intervals; k++)
        {
            // Base load (compressed air, lighting, offices) plus combustion-air fans and fume
            // extraction that run harder while a furnace fires.
            double kW = 45;
            foreach (var run in runs)
            {
                kW += run.PhaseAt(start + (k * step)).Phase is FurnacePhase.Charging or FurnacePhase.Melting ? 16 : 5;
            }

            aux[k] = (long)Math.Round(kW * stepHours * 1000 * (1 + (0.05 * ((2 * rng.NextDouble()) - 1))));
        }

        return new MeterSeries
        {
            Tag = "Aux.PowerTotal", Unit = "kWh", Furnace = -1, GridStart = start, Step = step,
            InitialMilli = (rng.Next(100_000, 9_000_000) * 1000L) + rng.Next(0, 1000), IncrementsMilli = aux,
        };
    }

    // ------------------------------------------------------------------ recording

    private static List<InputRecord> BuildRecords(List<FurnaceRun> runs, MeterSeries aux, int intervals)
    {
        var records = new List<InputRecord>();
        var meters = runs.SelectMany(r => new[] { r.Gas, r.Power }).Append(aux).ToArray();
        var values = meters.Select(m => m.ReadValues()).ToArray();
        for (int k = 0; k <= intervals; k++)
        {
            for (int i = 0; i < meters.Length; i++)
            {
                records.Add(new TagRecord(meters[i].GridStart + (k * meters[i].Step), meters[i].Tag, values[i][k]));
            }
        }

        foreach (var run in runs)
        {
            foreach (var w in run.Weighings.Where(w => w.Recorded))
            {
                records.AddRange(w.Readings.Select(r => new ScaleRecord(r.Ticks, w.Scale, r.GrossKg, r.Motion)));
            }

            foreach (var p in run.Picks.Where(p => p.For.Recorded))
            {
                records.Add(new MaterialPickRecord(p.Ticks, run.Id, p.Material));
            }
        }

        // Stable sort: records at the same instant keep the order above (meters, then scales, then picks).
        return records.OrderBy(r => r.Ticks).ToList();
    }

    private static long Seconds(long seconds) => seconds * Second;

    private static long NextSecond(long ticks) => ticks - (ticks % Second) + Second;
}
