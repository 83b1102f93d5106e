using System.Text.Json;
using EdgeCollector.Core.Configuration;
using EdgeCollector.Core.Engine;

namespace EdgeCollector.Core.Tests;

/// <summary>Builds small plants and drives the engine with readable records.</summary>
internal static class TestPlant
{
    public static readonly FuelFactors NaturalGas = new() { NcvGJPerNm3 = 0.038931, CarbonTCPerTJ = 15.3, Oxidation = 0.99, Source = "GB/T 32151" };

    /// <summary>kgCO2 per Nm3 of natural gas with the default factors, computed independently of the engine.</summary>
    public const double GasT = 0.038931 * 15.3 / 1000 * 0.99 * 44 / 12;

    public static FurnaceConfig Furnace(string id, bool plc = false, string? heel = null, IReadOnlyList<MeterConfig>? meters = null, Material? defaultMaterial = Material.PostConsumerOther) => new()
    {
        Id = id,
        StateTag = plc ? $"{id}.State" : null,
        HeatNumberTag = plc ? $"{id}.HeatNo" : null,
        HeelMassTag = heel,
        Meters = meters ??
        [
            new MeterConfig { Tag = $"{id}.Gas", Kind = MeterKind.Fuel, Fuel = "NaturalGas" },
            new MeterConfig { Tag = $"{id}.Power", Kind = MeterKind.Electricity },
        ],
        Scales =
        [
            new FurnaceScaleConfig { Source = $"{id}-charge", Role = ScaleRole.Charge },
            new FurnaceScaleConfig { Source = $"{id}-tap", Role = ScaleRole.Tap },
            new FurnaceScaleConfig { Source = $"{id}-dross", Role = ScaleRole.Dross },
        ],
        DefaultMaterial = defaultMaterial,
    };

    public static EdgeConfig Config(IReadOnlyList<FurnaceConfig>? furnaces = null, IReadOnlyList<MeterConfig>? siteMeters = null,
        double green = 0, double? residual = null, IReadOnlyList<TagConfig>? tags = null, double holdSeconds = 900,
        IReadOnlyDictionary<int, double>? targets = null)
    {
        furnaces ??= [Furnace("F1")];
        var scales = furnaces.SelectMany(f => f.Scales).Select(s => new SourceConfig
        {
            Name = s.Source, Type = SourceType.Scale, StableBandKg = 2, StableSeconds = 2, ZeroBandKg = 5,
        });
        return new EdgeConfig
        {
            Site = new SiteConfig { Id = "wenxi", TimeZone = "Asia/Shanghai", ShiftStarts = [new(8, 0), new(16, 0), new(0, 0)] },
            Sources = [new SourceConfig { Name = "rec", Type = SourceType.Recording, Tags = tags ?? [] }, .. scales],
            Furnaces = furnaces,
            SiteMeters = siteMeters ?? [],
            Factors = new FactorsConfig
            {
                Set = "cn-default",
                Fuels = new Dictionary<string, FuelFactors> { ["NaturalGas"] = NaturalGas },
                Electricity = new ElectricityFactors { GridTCO2PerMWh = 0.5366, ResidualTCO2PerMWh = residual, GreenKWhShare = green },
                MaterialYield = new Dictionary<Material, double>
                {
                    [Material.Primary] = 0.99, [Material.PreConsumer] = 0.97, [Material.PostConsumerUbc] = 0.90,
                    [Material.PostConsumerOther] = 0.92, [Material.Alloying] = 1.0,
                },
            },
            Targets = new TargetsConfig { IntensityTCO2ePerT = targets ?? new Dictionary<int, double> { [2025] = 0.79, [2026] = 0.77, [2027] = 0.75 } },
            Engine = new EngineConfig { MaxHoldSeconds = holdSeconds },
        };
    }

    public static long T(string iso) => DateTimeOffset.Parse(iso, System.Globalization.CultureInfo.InvariantCulture).UtcTicks;

    public static long At(long start, double seconds) => start + (long)(seconds * TimeSpan.TicksPerSecond);
}

/// <summary>
/// An engine plus the messages it published, parsed for assertions. Records are queued and
/// applied in time order (stable for equal times) when results are first asked for, so a test
/// can write loads and meter readings in the order that reads best.
/// </summary>
internal sealed class Harness
{
    private readonly List<InputRecord> _queue = [];

    public KpiEngine Engine { get; }
    public List<OutgoingMessage> Messages { get; } = [];

    public Harness(EdgeConfig config, EngineState? state = null)
    {
        Engine = new KpiEngine(new PlantModel(config), state);
    }

    public Harness Sample(string tag, long ticks, double value, SampleQuality q = SampleQuality.Good) => Add(new TagRecord(ticks, tag, value, q));

    public Harness Scale(string scale, long ticks, double kg, bool? motion = false) => Add(new ScaleRecord(ticks, scale, kg, motion));

    /// <summary>A load that holds <paramref name="kg"/> from <paramref name="start"/>: ticket at start + 2 s, back to zero at + 3 s.</summary>
    public Harness Load(string scale, long start, double kg)
    {
        Scale(scale, start, kg);
        Scale(scale, TestPlant.At(start, 1), kg);
        Scale(scale, TestPlant.At(start, 2), kg);
        Scale(scale, TestPlant.At(start, 3), 0);
        return this;
    }

    public Harness Pick(long ticks, string furnace, Material? m) => Add(new MaterialPickRecord(ticks, furnace, m));

    /// <summary>Voids apply at once (after everything queued before them), as they name ids of tickets already made.</summary>
    public Harness Void(long ticks, string id, string reason)
    {
        Add(new VoidRecord(ticks, id, reason));
        return Run();
    }

    public Harness Flush()
    {
        Run();
        Engine.FlushAtEnd();
        Messages.AddRange(Engine.TakeMessages());
        return this;
    }

    public Harness Add(InputRecord record)
    {
        _queue.Add(record);
        return this;
    }

    public Harness Run()
    {
        foreach (var r in _queue.OrderBy(r => r.Ticks))
        {
            Engine.Apply(r);
            Messages.AddRange(Engine.TakeMessages());
        }

        _queue.Clear();
        return this;
    }

    public IEnumerable<JsonElement> Payloads(string topicSuffix)
    {
        Run();
        return Messages.Where(m => m.Topic.EndsWith(topicSuffix, StringComparison.Ordinal)).Select(m => JsonDocument.Parse(m.Payload).RootElement).ToList();
    }

    public JsonElement Single(string topicSuffix) => Assert.Single(Payloads(topicSuffix));

    public JsonElement Window(string entity, string kind, string start) =>
        Payloads($"/{entity}/kpi/{kind}").Last(p => p.GetProperty("window").GetProperty("start").GetString() == start);
}

internal static class JsonExtensions
{
    public static double Num(this JsonElement e, string path)
    {
        foreach (var part in path.Split('.'))
        {
            e = e.GetProperty(part);
        }

        return e.GetDouble();
    }

    public static bool IsNull(this JsonElement e, string path)
    {
        foreach (var part in path.Split('.'))
        {
            e = e.GetProperty(part);
        }

        return e.ValueKind == JsonValueKind.Null;
    }

    public static string[] Flags(this JsonElement e) =>
        e.GetProperty("quality").GetProperty("flags").EnumerateArray().Select(f => f.GetString()!).ToArray();
}
