using EdgeCollector.Core.Configuration;

namespace EdgeCollector.Core.Engine;

/// <summary>Window kinds as published (contracts.md §2: lower case on the wire).</summary>
public enum WindowKind { Minute, Heat, Shift, Day }

/// <summary>A day window's place on the target pathway (product.md "Intensity").</summary>
public sealed record TargetStatus(int Year, double IntensityTCO2ePerT, bool? OnTrack);

/// <summary>Every published figure of a window, derived from its additive <see cref="Figures"/>.</summary>
public sealed record KpiFigures
{
    public double ChargedKg { get; init; }
    public double TappedKg { get; init; }
    public double DrossKg { get; init; }
    public double? MeltYield { get; init; }
    public double? MeltLossPct { get; init; }
    public double? DrossRatio { get; init; }
    public double GasNm3 { get; init; }
    public double ElectricityKWh { get; init; }
    public double EnergyGJ { get; init; }
    public double Scope1TCO2e { get; init; }
    public double Scope2LocationTCO2e { get; init; }
    public double Scope2MarketTCO2e { get; init; }
    public double? IntensityTCO2ePerT { get; init; }
    public double? RecycledPct { get; init; }
    public double? PostConsumerPct { get; init; }
    public double? PreConsumerPct { get; init; }
    /// <summary>CMI version 3 reading of recycled content; must equal <see cref="RecycledPct"/> (version 2).</summary>
    public double? RecycledPctV3 { get; init; }
    public TargetStatus? Target { get; init; }
    public double? GasNm3PerT { get; init; }
    public double? KWhPerT { get; init; }
    public double? GJPerT { get; init; }
}

/// <summary>The KPI definitions of product.md "What it computes", as pure functions.</summary>
public sealed class KpiCalculator
{
    private readonly FactorsConfig _factors;
    private readonly TargetsConfig _targets;

    public KpiCalculator(FactorsConfig factors, TargetsConfig targets)
    {
        _factors = factors;
        _targets = targets;
    }

    /// <summary>Scope 1: tCO2 = Nm3 × NCV × C / 1000 × oxidation × 44/12 (product.md "Scope 1").</summary>
    public static double Scope1(double nm3, FuelFactors fuel) =>
        nm3 * fuel.NcvGJPerNm3 * fuel.CarbonTCPerTJ / 1000.0 * fuel.Oxidation * 44.0 / 12.0;

    public double Scope2Location(double kWh) => kWh / 1000.0 * _factors.Electricity.GridTCO2PerMWh;

    public double Scope2Market(double kWh)
    {
        var e = _factors.Electricity;
        double green = kWh * e.GreenKWhShare;
        return (kWh - green) / 1000.0 * (e.ResidualTCO2PerMWh ?? e.GridTCO2PerMWh);
    }

    /// <summary>Material yield factor; unknown material counts as primary (CMI guidance).</summary>
    public double YieldFactor(int materialIndex)
    {
        var material = materialIndex == Figures.UnknownMaterial ? Material.Primary : (Material)materialIndex;
        return _factors.MaterialYield.TryGetValue(material, out double y) ? y : 1.0;
    }

    /// <param name="f">The window's additive figures.</param>
    /// <param name="kind">Window kind: minute windows carry no ratios.</param>
    /// <param name="heelDeltaKg">heel_end − heel_start for a heel-corrected heat, else 0.</param>
    /// <param name="localYear">The local year of a day window (for its target), else null.</param>
    public KpiFigures Compute(Figures f, WindowKind kind, double heelDeltaKg = 0, int? localYear = null)
    {
        double scope2Loc = Scope2Location(f.ElectricityKWh);
        double scope2Mkt = Scope2Market(f.ElectricityKWh);
        var result = new KpiFigures
        {
            ChargedKg = f.ChargedKg,
            TappedKg = f.TappedKg,
            DrossKg = f.DrossKg,
            GasNm3 = f.GasNm3,
            ElectricityKWh = f.ElectricityKWh,
            EnergyGJ = f.EnergyGJ,
            Scope1TCO2e = f.Scope1TCO2,
            Scope2LocationTCO2e = scope2Loc,
            Scope2MarketTCO2e = scope2Mkt,
        };
        if (kind == WindowKind.Minute)
        {
            return result;
        }

        double? yield = null, loss = null, drossRatio = null;
        if (f.ChargedKg > 0 && f.TappedKg > 0)
        {
            yield = (f.TappedKg + heelDeltaKg) / f.ChargedKg;
            loss = 100.0 * (1.0 - yield.Value);
            drossRatio = f.DrossKg / f.ChargedKg;
        }

        double? intensity = null, gasPerT = null, kWhPerT = null, gjPerT = null;
        if (f.TappedKg > 0)
        {
            double t = f.TappedKg / 1000.0;
            intensity = (f.Scope1TCO2 + scope2Loc) / t;
            gasPerT = f.GasNm3 / t;
            kWhPerT = f.ElectricityKWh / t;
            gjPerT = f.EnergyGJ / t;
        }

        var (recycled, post, pre, v3) = Recycled(f);
        TargetStatus? target = null;
        if (kind == WindowKind.Day && localYear is int year && _targets.IntensityTCO2ePerT.TryGetValue(year, out double t0))
        {
            target = new TargetStatus(year, t0, intensity is double i ? i <= t0 : null);
        }

        return result with
        {
            MeltYield = yield,
            MeltLossPct = loss,
            DrossRatio = drossRatio,
            IntensityTCO2ePerT = intensity,
            RecycledPct = recycled,
            PostConsumerPct = post,
            PreConsumerPct = pre,
            RecycledPctV3 = v3,
            Target = target,
            GasNm3PerT = gasPerT,
            KWhPerT = kWhPerT,
            GJPerT = gjPerT,
        };
    }

    /// <summary>
    /// CMI recycled content: AN = Σ net of everything but Internal; version 2
    /// recycled % = 100 × (AN − primary net − alloying net) / AN; version 3 = 100 × (pre + post) / AN.
    /// </summary>
    public static (double? Recycled, double? Post, double? Pre, double? V3) Recycled(Figures f)
    {
        double primary = f.NetByMaterial[(int)Material.Primary] + f.NetByMaterial[Figures.UnknownMaterial];
        double alloying = f.NetByMaterial[(int)Material.Alloying];
        double preNet = f.NetByMaterial[(int)Material.PreConsumer];
        double postNet = f.NetByMaterial[(int)Material.PostConsumerUbc] + f.NetByMaterial[(int)Material.PostConsumerOther];
        double an = primary + alloying + preNet + postNet;
        if (an <= 0)
        {
            return (null, null, null, null);
        }

        double recycled = 100.0 * (an - primary - alloying) / an;
        double post = 100.0 * postNet / an;
        return (recycled, post, recycled - post, 100.0 * (preNet + postNet) / an);
    }
}
