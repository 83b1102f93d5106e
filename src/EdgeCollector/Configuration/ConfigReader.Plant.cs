using EdgeCollector.Core.Configuration;

namespace EdgeCollector.Configuration;

public sealed partial class ConfigReader
{
    private static readonly MeterConfig MeterDefaults = new();

    private IReadOnlyDictionary<string, FuelFactors> _fuels = new Dictionary<string, FuelFactors>();

    /// <summary>Furnace id (case-insensitive: ids become topic levels) → path.</summary>
    private readonly Dictionary<string, string> _furnaceIds = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Metered tag → path of the meter: a totaliser belongs to one furnace or to the site.</summary>
    private readonly Dictionary<string, string> _meteredTags = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Scale source → path of the furnace scale entry that takes it.</summary>
    private readonly Dictionary<string, string> _assignedScales = new(StringComparer.OrdinalIgnoreCase);

    private string? _firstElectricityMeter;
    private string? _firstChargeScale;

    private List<FurnaceConfig> ReadFurnaces(ConfigNode node)
    {
        var furnaces = new List<FurnaceConfig>();
        foreach (var item in node.Items())
        {
            if (item.IsObject())
                furnaces.Add(ReadFurnace(item));
        }
        return furnaces;
    }

    private FurnaceConfig ReadFurnace(ConfigNode node)
    {
        node.AllowOnly(["Id", "StateTag", "HeatNumberTag", "HeelMassTag", "Meters", "Scales", "DefaultMaterial"]);
        var id = TopicSafeId(node["Id"]);
        if (id is not null)
        {
            if (string.Equals(id, "site", StringComparison.OrdinalIgnoreCase))
            {
                node["Id"].Error("'site' is reserved: it is the site's own entity in MQTT topics");
                id = null;
            }
            else if (_furnaceIds.TryGetValue(id, out var first))
                node["Id"].Error($"'{id}' is already the Id of {first}");
            else
                _furnaceIds[id] = node.Path;
        }

        var scales = new List<FurnaceScaleConfig>();
        foreach (var item in node["Scales"].Items())
        {
            if (!item.IsObject())
                continue;
            item.AllowOnly(["Source", "Role"]);
            var source = ScaleReference(item["Source"]);
            var role = item["Role"].Enum<ScaleRole>(required: true);
            if (role == ScaleRole.Charge)
                _firstChargeScale ??= item.Path;
            if (source is not null && role is ScaleRole r)
                scales.Add(new FurnaceScaleConfig { Source = source, Role = r });
        }

        return new FurnaceConfig
        {
            Id = id ?? "",
            StateTag = TagReference(node["StateTag"]),
            HeatNumberTag = TagReference(node["HeatNumberTag"]),
            HeelMassTag = TagReference(node["HeelMassTag"]),
            Meters = ReadMeters(node["Meters"]),
            Scales = scales,
            DefaultMaterial = node["DefaultMaterial"].Enum<Material>(),
        };
    }

    private List<MeterConfig> ReadMeters(ConfigNode node)
    {
        var meters = new List<MeterConfig>();
        foreach (var item in node.Items())
        {
            if (item.IsObject() && ReadMeter(item) is { } meter)
                meters.Add(meter);
        }
        return meters;
    }

    private static readonly string[] FuelOnlyKeys = ["Fuel", "Volume", "BaseTemperatureC", "BasePressureKPa", "PressureTag", "TemperatureTag", "PressureKPa", "TemperatureC"];
    private static readonly string[] ActualOnlyKeys = ["PressureTag", "TemperatureTag", "PressureKPa", "TemperatureC"];
    private static readonly string[] StandardOnlyKeys = ["BaseTemperatureC", "BasePressureKPa"];

    private MeterConfig? ReadMeter(ConfigNode node)
    {
        node.AllowOnly(["Tag", "Kind", .. FuelOnlyKeys]);
        var tag = TagReference(node["Tag"], required: true);
        if (tag is not null)
        {
            if (_meteredTags.TryGetValue(tag, out var first))
                node["Tag"].Error($"'{tag}' is already metered at {first}: a meter belongs to one furnace or to the site, or its energy would count twice");
            else
                _meteredTags[tag] = node.Path;
        }

        var kind = node["Kind"].Enum<MeterKind>(required: true);
        if (kind == MeterKind.Electricity)
        {
            _firstElectricityMeter ??= node.Path;
            foreach (var key in FuelOnlyKeys.Where(k => node[k].Exists))
                node[key].Error("only used by a meter of Kind Fuel");
        }

        CheckMeterUnit(node["Tag"], tag, kind);

        string? fuel = null;
        var volume = MeterDefaults.Volume;
        if (kind == MeterKind.Fuel)
        {
            fuel = node["Fuel"].Name();
            if (fuel is not null && !_fuels.ContainsKey(fuel))
            {
                node["Fuel"].Error(_fuels.Count == 0
                    ? $"'{fuel}' is not defined in Factors.Fuels (none are)"
                    : $"'{fuel}' is not defined in Factors.Fuels ({string.Join(", ", _fuels.Keys)})");
                fuel = null;
            }
            volume = node["Volume"].Enum<VolumeBasis>() ?? MeterDefaults.Volume;
            var unused = volume == VolumeBasis.Standard ? ActualOnlyKeys : StandardOnlyKeys;
            foreach (var key in unused.Where(k => node[k].Exists))
                node[key].Error($"not used with Volume {volume} (see contracts.md §1 on fuel meters)");
        }

        const double AbsoluteZeroC = -273.15;
        var meter = new MeterConfig
        {
            Tag = tag ?? "",
            Kind = kind ?? MeterKind.Fuel,
            Fuel = fuel,
            Volume = volume,
            BaseTemperatureC = node["BaseTemperatureC"].Number(AbsoluteZeroC, minExclusive: true) ?? MeterDefaults.BaseTemperatureC,
            BasePressureKPa = node["BasePressureKPa"].Number(0, minExclusive: true) ?? MeterDefaults.BasePressureKPa,
            PressureTag = TagReference(node["PressureTag"]),
            TemperatureTag = TagReference(node["TemperatureTag"]),
            PressureKPa = node["PressureKPa"].Number(0, minExclusive: true),
            TemperatureC = node["TemperatureC"].Number(AbsoluteZeroC, minExclusive: true),
        };
        return tag is null || kind is null ? null : meter;
    }

    // The engine scales Wh and MWh to kWh and takes anything else as kWh or Nm3 as read (PlantModel),
    // so a meter read in kW (power, not energy) or GJ would be counted silently wrong.
    private static readonly string[] ElectricityUnits = ["kWh", "Wh", "MWh"];
    private static readonly string[] FuelUnits = ["Nm3", "m3", "Sm3"];

    private void CheckMeterUnit(ConfigNode node, string? tag, MeterKind? kind)
    {
        if (tag is null || kind is not MeterKind k || !_tags.TryGetValue(tag, out var defined) || defined.Unit is not string unit)
            return;
        var allowed = k == MeterKind.Electricity ? ElectricityUnits : FuelUnits;
        if (!allowed.Contains(unit, StringComparer.Ordinal))
            node.Error($"'{tag}' is read in '{unit}' ({defined.Path}.Unit): a {k} meter is a totaliser in {string.Join(", ", allowed)}");
    }

    /// <summary>Reads a tag name that must be defined by some source's Tags (any name, when a Recording source exists).</summary>
    private string? TagReference(ConfigNode node, bool required = false)
    {
        var name = node.Name(required);
        if (name is null || _hasRecording)
            return name;
        if (_tags.TryGetValue(name, out var defined))
        {
            if (string.Equals(defined.Name, name, StringComparison.Ordinal))
                return name;
            node.Error($"'{name}' is not a defined tag (did you mean '{defined.Name}' at {defined.Path}? tag names are case-sensitive)");
            return null;
        }
        node.Error($"'{name}' is not a tag defined in any source's Tags");
        return null;
    }

    /// <summary>Reads a furnace scale's Source: the Name of a Scale source (or a scale a Recording source's records name), taken by one furnace only.</summary>
    private string? ScaleReference(ConfigNode node)
    {
        var name = node.Name();
        if (name is null)
            return null;
        if (_sources.TryGetValue(name, out var source))
        {
            if (!string.Equals(source.Source?.Name ?? name, name, StringComparison.Ordinal) && source.Source is not null)
            {
                node.Error($"'{name}' is not a source (did you mean '{source.Source.Name}' at {source.Path}? names are case-sensitive)");
                return null;
            }
            if (source.Type is SourceType type && type != SourceType.Scale)
            {
                node.Error($"'{name}' is a {type} source ({source.Path}), not a Scale");
                return null;
            }
        }
        else if (!_hasRecording)
        {
            node.Error($"'{name}' is not the Name of any Scale source");
            return null;
        }

        if (_assignedScales.TryGetValue(name, out var first))
        {
            node.Error($"'{name}' is already assigned at {first}: a scale weighs for one furnace");
            return null;
        }
        _assignedScales[name] = node.Path;
        return name;
    }
}
