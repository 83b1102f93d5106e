using EdgeCollector.Core.Configuration;

namespace EdgeCollector.Core.Engine;

/// <summary>A totaliser the engine counts: a furnace meter or a site meter.</summary>
public sealed class TotaliserModel
{
    public required int Index { get; init; }
    public required string Tag { get; init; }
    public required MeterKind Kind { get; init; }
    /// <summary>Furnace index, or −1 for a site meter.</summary>
    public required int Furnace { get; init; }
    public double? Max { get; init; }
    public double? MaxRatePerHour { get; init; }
    /// <summary>Tag unit → kWh (electricity) or → m3 (fuel).</summary>
    public double UnitFactor { get; init; } = 1;
    public FuelFactors? Fuel { get; init; }
    public string? FuelName { get; init; }
    /// <summary>Standard-volume meters: base conditions → 0 °C / 101.325 kPa.</summary>
    public double StandardFactor { get; init; } = 1;
    public bool Actual { get; init; }
    public int PressureTag { get; init; } = -1;
    public int TemperatureTag { get; init; } = -1;
    public double PressureKPa { get; init; } = 101.325;
    public double TemperatureC { get; init; }
    /// <summary>Finality groups this totaliser belongs to.</summary>
    public int[] Groups { get; set; } = [];
}

/// <summary>What a tag means to the engine; a tag may play several roles.</summary>
public sealed class TagModel
{
    public required int Index { get; init; }
    public required string Name { get; init; }
    public int Totaliser { get; set; } = -1;
    /// <summary>Kept as a step series (P, T or heel mass).</summary>
    public bool Stepped { get; set; }
    public List<int> StateOf { get; } = [];
    public List<int> HeatNumberOf { get; } = [];
}

public sealed class ScaleModel
{
    public required int Index { get; init; }
    public required string Name { get; init; }
    public required int Furnace { get; init; }
    public required ScaleRole Role { get; init; }
    public required double ZeroBandKg { get; init; }
    public required double StableBandKg { get; init; }
    public required long StableTicks { get; init; }
}

public sealed class FurnaceModel
{
    public required int Index { get; init; }
    public required string Id { get; init; }
    public required bool PlcHeats { get; init; }
    public int HeelTag { get; init; } = -1;
    public Material? DefaultMaterial { get; init; }
    public int Group { get; set; }
}

/// <summary>The configuration compiled into indexed, validated lookups for the engine.</summary>
public sealed class PlantModel
{
    public string SiteId { get; }
    public string TopicPrefix { get; }
    public string FactorSet { get; }
    public SiteCalendar Calendar { get; }
    public KpiCalculator Calculator { get; }
    public TargetsConfig Targets { get; }
    public long HoldTicks { get; }
    public IReadOnlyList<FurnaceModel> Furnaces { get; }
    public IReadOnlyList<TotaliserModel> Totalisers { get; }
    public IReadOnlyList<TagModel> Tags { get; }
    public IReadOnlyList<ScaleModel> Scales { get; }
    public bool HasSiteMeters { get; }
    /// <summary>Finality groups: the totalisers whose readings a window of an entity waits for.</summary>
    public IReadOnlyList<int[]> GroupMembers { get; }
    /// <summary>Group of the site entity.</summary>
    public int SiteGroup { get; }
    public Dictionary<string, int> TagIndex { get; }
    public Dictionary<string, int> ScaleIndex { get; }
    public Dictionary<string, int> FurnaceIndex { get; }
    /// <summary>Entity index of the site (furnaces are 0..n−1).</summary>
    public int SiteEntity => Furnaces.Count;
    public int EntityCount => Furnaces.Count + 1;

    public PlantModel(EdgeConfig config)
    {
        SiteId = config.Site.Id;
        TopicPrefix = config.Uplink.Mqtt?.TopicPrefix ?? "edgecollector/v1";
        FactorSet = config.Factors.Set;
        Calendar = new SiteCalendar(TimeZoneInfo.FindSystemTimeZoneById(config.Site.TimeZone), config.Site.ShiftStarts);
        Calculator = new KpiCalculator(config.Factors, config.Targets);
        Targets = config.Targets;
        HoldTicks = (long)(config.Engine.MaxHoldSeconds * EngineTime.TicksPerSecond);

        var tags = new List<TagModel>();
        TagIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        TagModel Tag(string name)
        {
            if (!TagIndex.TryGetValue(name, out int i))
            {
                i = tags.Count;
                TagIndex[name] = i;
                tags.Add(new TagModel { Index = i, Name = name });
            }

            return tags[i];
        }

        // Counter settings come from the source tag that reads the meter.
        var tagConfigs = new Dictionary<string, TagConfig>(StringComparer.Ordinal);
        foreach (var source in config.Sources)
        {
            foreach (var t in source.Tags)
            {
                tagConfigs.TryAdd(t.Tag, t);
            }
        }

        var furnaces = new List<FurnaceModel>();
        var totalisers = new List<TotaliserModel>();
        FurnaceIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        TotaliserModel Meter(MeterConfig m, int furnace)
        {
            var tag = Tag(m.Tag);
            tagConfigs.TryGetValue(m.Tag, out var tc);
            string unit = tc?.Unit ?? (m.Kind == MeterKind.Electricity ? "kWh" : "Nm3");
            double unitFactor = unit switch
            {
                "Wh" => 0.001,
                "MWh" => 1000.0,
                _ => 1.0,
            };
            FuelFactors? fuel = null;
            if (m.Kind == MeterKind.Fuel)
            {
                fuel = config.Factors.Fuels[m.Fuel!];
            }

            int p = -1, t = -1;
            if (m.Volume == VolumeBasis.Actual)
            {
                if (m.PressureTag is { Length: > 0 } pt)
                {
                    p = Tag(pt).Index;
                    tags[p].Stepped = true;
                }

                if (m.TemperatureTag is { Length: > 0 } tt)
                {
                    t = Tag(tt).Index;
                    tags[t].Stepped = true;
                }
            }

            var model = new TotaliserModel
            {
                Index = totalisers.Count,
                Tag = m.Tag,
                Kind = m.Kind,
                Furnace = furnace,
                Max = tc?.Counter?.Max,
                MaxRatePerHour = tc?.Counter?.MaxRatePerHour,
                UnitFactor = unitFactor,
                Fuel = fuel,
                FuelName = m.Fuel,
                StandardFactor = m.Volume == VolumeBasis.Standard
                    ? 273.15 / (273.15 + m.BaseTemperatureC) * (m.BasePressureKPa / 101.325)
                    : 1.0,
                Actual = m.Volume == VolumeBasis.Actual,
                PressureTag = p,
                TemperatureTag = t,
                PressureKPa = m.PressureKPa ?? 101.325,
                TemperatureC = m.TemperatureC ?? 0.0,
            };
            tag.Totaliser = model.Index;
            totalisers.Add(model);
            return model;
        }

        foreach (var f in config.Furnaces)
        {
            int index = furnaces.Count;
            FurnaceIndex[f.Id] = index;
            int heel = -1;
            if (f.HeelMassTag is { Length: > 0 } h)
            {
                heel = Tag(h).Index;
                tags[heel].Stepped = true;
            }

            if (f.StateTag is { Length: > 0 } st)
            {
                Tag(st).StateOf.Add(index);
            }

            if (f.HeatNumberTag is { Length: > 0 } hn)
            {
                Tag(hn).HeatNumberOf.Add(index);
            }

            furnaces.Add(new FurnaceModel
            {
                Index = index,
                Id = f.Id,
                PlcHeats = f.StateTag is { Length: > 0 } || f.HeatNumberTag is { Length: > 0 },
                HeelTag = heel,
                DefaultMaterial = f.DefaultMaterial,
            });
            foreach (var m in f.Meters)
            {
                Meter(m, index);
            }
        }

        foreach (var m in config.SiteMeters)
        {
            Meter(m, -1);
        }

        HasSiteMeters = config.SiteMeters.Count > 0;
        var groups = new List<int[]>();
        if (HasSiteMeters)
        {
            // Site-meter allocation depends on every furnace: one group waits for every totaliser.
            groups.Add(totalisers.Select(t => t.Index).ToArray());
            foreach (var f in furnaces)
            {
                f.Group = 0;
            }

            SiteGroup = 0;
            foreach (var t in totalisers)
            {
                t.Groups = [0];
            }
        }
        else
        {
            foreach (var f in furnaces)
            {
                f.Group = groups.Count;
                groups.Add(totalisers.Where(t => t.Furnace == f.Index).Select(t => t.Index).ToArray());
            }

            SiteGroup = groups.Count;
            groups.Add(totalisers.Select(t => t.Index).ToArray());
            foreach (var t in totalisers)
            {
                t.Groups = [furnaces[t.Furnace].Group, SiteGroup];
            }
        }

        GroupMembers = groups;

        var scales = new List<ScaleModel>();
        ScaleIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        var scaleSources = config.Sources.Where(s => s.Type == SourceType.Scale).ToDictionary(s => s.Name, StringComparer.Ordinal);
        foreach (var f in config.Furnaces)
        {
            foreach (var s in f.Scales)
            {
                scaleSources.TryGetValue(s.Source, out var src);
                ScaleIndex[s.Source] = scales.Count;
                scales.Add(new ScaleModel
                {
                    Index = scales.Count,
                    Name = s.Source,
                    Furnace = FurnaceIndex[f.Id],
                    Role = s.Role,
                    ZeroBandKg = src?.ZeroBandKg ?? 5,
                    StableBandKg = src?.StableBandKg ?? 2,
                    StableTicks = (long)((src?.StableSeconds ?? 2) * EngineTime.TicksPerSecond),
                });
            }
        }

        Furnaces = furnaces;
        Totalisers = totalisers;
        Tags = tags;
        Scales = scales;
    }

    public string EntityName(int entity) => entity == SiteEntity ? "site" : Furnaces[entity].Id;

    public int GroupOf(int entity) => entity == SiteEntity ? SiteGroup : Furnaces[entity].Group;

    /// <summary>A fingerprint of the plant's layout; restored state must have been written for the same one.</summary>
    public string LayoutFingerprint() => MessageIds.Sha256Hex(string.Join("|",
        Furnaces.Select(f => "F:" + f.Id).Concat(Totalisers.Select(t => "T:" + t.Tag + ":" + t.Furnace)).Concat(Scales.Select(s => "S:" + s.Name))));
}
