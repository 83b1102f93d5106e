using System.Globalization;
using System.Text.RegularExpressions;
using EdgeCollector.Core.Configuration;
using Microsoft.Extensions.Configuration;

namespace EdgeCollector.Configuration;

/// <summary>
/// Builds an <see cref="EdgeConfig"/> from a configuration tree in the shape of contracts.md §1 and
/// validates all of it, collecting every problem with the path of the bad key instead of stopping at
/// the first. Checks: required keys, enum spellings (case-sensitive), numbers (invariant culture) and
/// their ranges, unknown keys (typos must not be silently ignored), and the cross-references between
/// sources, tags, furnaces, meters, scales and factors.
/// </summary>
public sealed partial class ConfigReader
{
    private static readonly string[] RootKeys =
        ["Site", "Sources", "Furnaces", "SiteMeters", "Factors", "Targets", "Engine", "Uplink", "Storage", "Dashboard"];

    private readonly ConfigProblems _problems = new();

    private ConfigReader()
    {
    }

    /// <summary>Reads and validates a configuration tree (e.g. the host's <see cref="IConfiguration"/>).</summary>
    /// <param name="configuration">The tree; its root keys are contracts.md §1's (<c>Site</c>, <c>Sources</c>, …).</param>
    /// <param name="origin">Where the tree came from, carried into the result for the start-up log.</param>
    /// <returns>The model, or every problem found.</returns>
    /// <remarks>
    /// The tree is flattened once with <see cref="ConfigurationExtensions.AsEnumerable(IConfiguration)"/>, which
    /// is slow on very large trees; <see cref="ConfigLoader.Load"/> reads its sources without that cost.
    /// </remarks>
    public static ConfigLoadResult Read(IConfiguration configuration, string origin = "configuration")
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return Read(configuration.AsEnumerable(), origin);
    }

    /// <summary>Reads and validates flattened configuration keys (<c>Sources:1:Tags:0:WordOrder</c> → value); a later duplicate key wins.</summary>
    internal static ConfigLoadResult Read(IEnumerable<KeyValuePair<string, string?>> flat, string origin)
    {
        var reader = new ConfigReader();
        var config = reader.ReadRoot(new ConfigNode(ConfigTree.Build(flat), reader._problems));
        return new ConfigLoadResult(config, reader._problems.Messages, origin);
    }

    private EdgeConfig ReadRoot(ConfigNode root)
    {
        foreach (var child in root.Children().Where(c => !RootKeys.Contains(c.Key, StringComparer.OrdinalIgnoreCase)))
        {
            // An unknown root key may come from an unrelated variable that happens to start with EDGE_.
            var variable = EnvironmentVariableFor(child.Key);
            child.Error(variable is null
                ? ConfigNode.UnknownKeyMessage(child.Key, RootKeys)
                : $"unknown key, set by the environment variable {variable} (variables starting with {ConfigLoader.EnvironmentPrefix} override configuration keys)");
        }
        var site = ReadSite(root["Site"]);
        // Sources and factors first: furnaces and meters refer to them.
        var sources = ReadSources(root["Sources"]);
        var factors = ReadFactors(root["Factors"]);
        var targets = ReadTargets(root["Targets"]);
        var furnaces = ReadFurnaces(root["Furnaces"]);
        var siteMeters = ReadMeters(root["SiteMeters"]);
        CheckFactorCoverage(root["Factors"]);
        var engine = ReadEngine(root["Engine"]);
        var uplink = ReadUplink(root["Uplink"], site.Id);
        var storage = ReadStorage(root["Storage"]);
        var dashboard = ReadDashboard(root["Dashboard"]);
        return new EdgeConfig
        {
            Site = site,
            Sources = sources,
            Furnaces = furnaces,
            SiteMeters = siteMeters,
            Factors = factors,
            Targets = targets,
            Engine = engine,
            Uplink = uplink,
            Storage = storage,
            Dashboard = dashboard,
        };
    }

    /// <summary>The EDGE_ variable that sets root key <paramref name="key"/> (EDGE_Key or EDGE_Key__…), if any.</summary>
    private static string? EnvironmentVariableFor(string key)
    {
        var name = ConfigLoader.EnvironmentPrefix + key;
        foreach (var variable in Environment.GetEnvironmentVariables().Keys.OfType<string>())
        {
            if (variable.Equals(name, StringComparison.OrdinalIgnoreCase)
                || variable.StartsWith(name + "__", StringComparison.OrdinalIgnoreCase))
                return variable;
        }
        return null;
    }

    // ---- Site ---------------------------------------------------------------------------------

    private static readonly SiteConfig SiteDefaults = new();

    private static SiteConfig ReadSite(ConfigNode node)
    {
        node.IsObject();
        node.AllowOnly(["Id", "Name", "TimeZone", "ShiftStarts"]);
        var id = TopicSafeId(node["Id"]);
        var name = node["Name"].Text();
        var timeZone = node["TimeZone"].RequiredText();
        if (timeZone is not null && !TimeZoneExists(timeZone))
        {
            node["TimeZone"].Error($"'{ConfigNode.Shorten(timeZone)}' is not a time zone this machine knows (use an IANA id such as Asia/Shanghai)");
            timeZone = null;
        }

        var shifts = new List<TimeOnly>();
        var shiftsNode = node["ShiftStarts"];
        foreach (var item in shiftsNode.Items())
        {
            var text = item.Text();
            if (text is null)
            {
                item.Error("required: a local time \"HH:mm\"");
                continue;
            }
            if (!HourMinute().IsMatch(text)
                || !TimeOnly.TryParseExact(text, "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out var start))
            {
                item.Error($"'{ConfigNode.Shorten(text)}' is not a local time \"HH:mm\" (00:00 to 23:59)");
                continue;
            }
            if (shifts.Contains(start))
            {
                item.Error($"'{text}' is listed twice");
                continue;
            }
            shifts.Add(start);
        }

        return new SiteConfig
        {
            Id = id ?? "",
            Name = name ?? "",
            TimeZone = timeZone ?? SiteDefaults.TimeZone,
            ShiftStarts = shiftsNode.Exists ? shifts : SiteDefaults.ShiftStarts,
        };
    }

    [GeneratedRegex("^[0-9]{2}:[0-9]{2}$")]
    private static partial Regex HourMinute();

    private static bool TimeZoneExists(string id)
    {
        try
        {
            TimeZoneInfo.FindSystemTimeZoneById(id);
            return true;
        }
        catch (Exception ex) when (ex is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            return false;
        }
    }

    /// <summary>A required id that ends up as an MQTT topic level (site and furnace ids).</summary>
    private static string? TopicSafeId(ConfigNode node)
    {
        var id = node.Name();
        if (id is null)
            return null;
        if (id.Any(c => c is '/' or '+' or '#' || char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            node.Error($"'{ConfigNode.Shorten(id)}' cannot be used as an MQTT topic level (no '/', '+', '#' or white space)");
            return null;
        }
        return id;
    }

    // ---- Factors and targets ------------------------------------------------------------------

    private static readonly FuelFactors FuelDefaults = new();

    /// <summary>Materials with a MaterialYield key, valid or not (an invalid value is reported once, not also as missing).</summary>
    private readonly HashSet<Material> _yieldsGiven = [];
    private static readonly ElectricityFactors ElectricityDefaults = new();

    private FactorsConfig ReadFactors(ConfigNode node)
    {
        node.IsObject();
        node.AllowOnly(["Set", "Fuels", "Electricity", "MaterialYield", "MaterialYieldSource"]);
        var set = node["Set"].Name();

        // Fuel names are configuration keys, so they match case-insensitively, like every key.
        var fuels = new Dictionary<string, FuelFactors>(StringComparer.OrdinalIgnoreCase);
        foreach (var fuel in node["Fuels"].Entries())
        {
            if (!fuel.IsObject())
                continue;
            fuel.AllowOnly(["NcvGJPerNm3", "CarbonTCPerTJ", "Oxidation", "Source"]);
            var ncv = fuel["NcvGJPerNm3"].Number(0, required: true);
            var carbon = fuel["CarbonTCPerTJ"].Number(0, required: true);
            var oxidation = fuel["Oxidation"].Number(0, 1);
            var source = fuel["Source"].RequiredText();
            fuels[fuel.Key] = new FuelFactors
            {
                NcvGJPerNm3 = ncv ?? 0,
                CarbonTCPerTJ = carbon ?? 0,
                Oxidation = oxidation ?? FuelDefaults.Oxidation,
                Source = source ?? "",
            };
        }
        _fuels = fuels;

        var electricity = ElectricityDefaults;
        var electricityNode = node["Electricity"];
        if (electricityNode.Exists && electricityNode.IsObject())
        {
            electricityNode.AllowOnly(["GridTCO2PerMWh", "ResidualTCO2PerMWh", "GreenKWhShare", "Source"]);
            var grid = electricityNode["GridTCO2PerMWh"].Number(0, required: true);
            var residual = electricityNode["ResidualTCO2PerMWh"].Number(0);
            var green = electricityNode["GreenKWhShare"].Number(0, 1);
            var source = electricityNode["Source"].RequiredText();
            electricity = new ElectricityFactors
            {
                GridTCO2PerMWh = grid ?? 0,
                ResidualTCO2PerMWh = residual,
                GreenKWhShare = green ?? ElectricityDefaults.GreenKWhShare,
                Source = source ?? "",
            };
        }

        var yields = new Dictionary<Material, double>();
        var yieldNode = node["MaterialYield"];
        foreach (var entry in yieldNode.Entries())
        {
            var material = Enum.GetNames<Material>().FirstOrDefault(m => string.Equals(m, entry.Key, StringComparison.OrdinalIgnoreCase));
            if (material is null)
            {
                entry.Error($"'{entry.Key}' is not one of {string.Join(", ", Enum.GetNames<Material>())}");
                continue;
            }
            _yieldsGiven.Add(Enum.Parse<Material>(material));
            if (entry.Number(0, 1, required: true) is double y)
                yields[Enum.Parse<Material>(material)] = y;
        }
        var yieldSource = node["MaterialYieldSource"].Text();
        if (yieldNode.Exists && yieldSource is null)
            node["MaterialYieldSource"].Error("required: where the melt-yield factors come from");

        return new FactorsConfig
        {
            Set = set ?? "",
            Fuels = fuels,
            Electricity = electricity,
            MaterialYield = yields,
            MaterialYieldSource = yieldSource ?? "",
        };
    }

    /// <summary>Checks, once meters and scales are known, that the factors they need are configured.</summary>
    private void CheckFactorCoverage(ConfigNode node)
    {
        if (_firstElectricityMeter is not null && !node["Electricity"].Exists)
            node["Electricity"].Error($"required: {_firstElectricityMeter} measures electricity");

        // CMI can-sheet guidance v1.2: a plant holds at least these four yield factors.
        if (_firstChargeScale is null)
            return;
        Material[] cmi = [Material.Primary, Material.PreConsumer, Material.PostConsumerUbc, Material.PostConsumerOther];
        var missing = cmi.Where(m => !_yieldsGiven.Contains(m)).ToList();
        if (missing.Count > 0)
            node["MaterialYield"].Error(
                $"needs {string.Join(", ", missing)} ({_firstChargeScale} weighs charges; CMI guidance asks every plant for at least Primary, PreConsumer, PostConsumerUbc and PostConsumerOther)");
    }

    private static TargetsConfig ReadTargets(ConfigNode node)
    {
        node.IsObject();
        node.AllowOnly(["IntensityTCO2ePerT", "ScrapUseT", "Source"]);
        var intensity = ReadYearly(node["IntensityTCO2ePerT"]);
        var scrap = ReadYearly(node["ScrapUseT"]);
        var source = node["Source"].Text();
        if (source is null && (node["IntensityTCO2ePerT"].Exists || node["ScrapUseT"].Exists))
            node["Source"].Error("required: where the targets come from");
        return new TargetsConfig { IntensityTCO2ePerT = intensity, ScrapUseT = scrap, Source = source ?? "" };
    }

    private static Dictionary<int, double> ReadYearly(ConfigNode node)
    {
        var values = new Dictionary<int, double>();
        foreach (var entry in node.Entries())
        {
            if (!int.TryParse(entry.Key, NumberStyles.None, CultureInfo.InvariantCulture, out var year) || year < 1990 || year > 2100)
            {
                entry.Error($"'{entry.Key}' is not a year (keys are years, e.g. \"2026\")");
                continue;
            }
            if (entry.Number(0, required: true) is double value)
                values[year] = value;
        }
        return values;
    }

    // ---- Engine, uplink, storage, dashboard ---------------------------------------------------

    private static readonly EngineConfig EngineDefaults = new();

    private static EngineConfig ReadEngine(ConfigNode node)
    {
        node.IsObject();
        node.AllowOnly(["MaxHoldSeconds"]);
        return new EngineConfig { MaxHoldSeconds = node["MaxHoldSeconds"].Number(0) ?? EngineDefaults.MaxHoldSeconds };
    }

    private static readonly MqttConfig MqttDefaults = new();
    private static readonly string[] MqttVersions = ["3.1.1", "5.0"];

    private static UplinkConfig ReadUplink(ConfigNode node, string siteId)
    {
        node.IsObject();
        node.AllowOnly(["Mqtt"]);
        var mqtt = node["Mqtt"];
        if (!mqtt.Exists || !mqtt.IsObject())
            return new UplinkConfig();
        mqtt.AllowOnly(["Broker", "ClientId", "TopicPrefix", "ProtocolVersion", "User", "PasswordEnv", "CaFile", "ClientCertFile"]);

        var broker = mqtt["Broker"].Text() ?? MqttDefaults.Broker;
        var tls = false;
        if (!Uri.TryCreate(broker, UriKind.Absolute, out var uri) || uri.Scheme is not ("mqtt" or "mqtts")
            || string.IsNullOrEmpty(uri.Host) || uri.AbsolutePath is not ("" or "/") || uri.Query.Length > 0)
            mqtt["Broker"].Error($"'{ConfigNode.Shorten(broker)}' is not an mqtt://host:port or mqtts://host:port URL");
        else
            tls = uri.Scheme == "mqtts";

        var clientId = mqtt["ClientId"].Name(required: false) ?? $"edge-{siteId}";
        var prefix = mqtt["TopicPrefix"].Text() ?? MqttDefaults.TopicPrefix;
        if (prefix.IndexOfAny(['+', '#', '\0']) >= 0 || prefix.StartsWith('/') || prefix.EndsWith('/')
            || prefix.Contains("//", StringComparison.Ordinal) || prefix.Any(char.IsWhiteSpace))
            mqtt["TopicPrefix"].Error($"'{ConfigNode.Shorten(prefix)}' is not a topic prefix (no wildcards '+' or '#', no white space, no empty levels, no leading or trailing '/')");

        var version = mqtt["ProtocolVersion"].OneOf(MqttVersions) ?? MqttDefaults.ProtocolVersion;
        var user = mqtt["User"].Name(required: false);
        var passwordEnv = mqtt["PasswordEnv"].EnvName();
        if (passwordEnv is not null && user is null && version == "3.1.1")
            mqtt["PasswordEnv"].Error("MQTT 3.1.1 sends no password without a user name [MQTT-3.1.2-22]: set User too");

        var caFile = ReadFile(mqtt["CaFile"], tls, "the broker's CA certificate");
        var certFile = ReadFile(mqtt["ClientCertFile"], tls, "a client certificate");

        return new UplinkConfig
        {
            Mqtt = new MqttConfig
            {
                Broker = broker,
                ClientId = clientId,
                TopicPrefix = prefix,
                ProtocolVersion = version,
                User = user,
                PasswordEnv = passwordEnv,
                CaFile = caFile,
                ClientCertFile = certFile,
            },
        };
    }

    private static string? ReadFile(ConfigNode node, bool tls, string what)
    {
        var path = node.Text();
        if (path is null)
            return null;
        if (!tls)
            node.Error($"{what} is only used with an mqtts:// broker");
        else if (!File.Exists(path))
            node.Error($"file '{ConfigNode.Shorten(path)}' not found (relative paths are from the working directory {Environment.CurrentDirectory})");
        return path;
    }

    private static readonly StorageConfig StorageDefaults = new();
    private static readonly string[] InfluxApis = ["v2", "v1"];

    private static StorageConfig ReadStorage(ConfigNode node)
    {
        node.IsObject();
        node.AllowOnly(["DataDir", "Influx"]);
        var dataDir = node["DataDir"].Name(required: false) ?? StorageDefaults.DataDir;

        InfluxConfig? influx = null;
        var influxNode = node["Influx"];
        if (influxNode.Exists && influxNode.IsObject())
        {
            influxNode.AllowOnly(["Url", "Api", "Org", "Bucket", "TokenEnv", "Database"]);
            var url = influxNode["Url"].RequiredText();
            if (url is not null && !IsHttpUrl(url))
                influxNode["Url"].Error($"'{ConfigNode.Shorten(url)}' is not an http:// or https:// URL");
            var api = influxNode["Api"].OneOf(InfluxApis) ?? "v2";
            var org = influxNode["Org"].Name(required: api == "v2");
            var bucket = influxNode["Bucket"].Name(required: api == "v2");
            var database = influxNode["Database"].Name(required: api == "v1");
            if (api == "v1")
            {
                if (org is not null)
                    influxNode["Org"].Error("only used with Api v2 (v1 writes to a Database)");
                if (bucket is not null)
                    influxNode["Bucket"].Error("only used with Api v2 (v1 writes to a Database)");
            }
            else if (database is not null)
            {
                influxNode["Database"].Error("only used with Api v1 (v2 writes to an Org and Bucket)");
            }
            influx = new InfluxConfig
            {
                Url = url ?? "",
                Api = api,
                Org = org,
                Bucket = bucket,
                TokenEnv = influxNode["TokenEnv"].EnvName(),
                Database = database,
            };
        }
        return new StorageConfig { DataDir = dataDir, Influx = influx };
    }

    private static readonly DashboardConfig DashboardDefaults = new();

    private static DashboardConfig ReadDashboard(ConfigNode node)
    {
        node.IsObject();
        node.AllowOnly(["Urls", "TokenEnv"]);
        var urls = node["Urls"].Text() ?? DashboardDefaults.Urls;
        foreach (var url in urls.Split(';', StringSplitOptions.TrimEntries))
        {
            // Kestrel's wildcard hosts (http://*:8080, http://+:8080) are not URIs: check them with a stand-in host.
            var checkable = url.Replace("://*", "://any", StringComparison.Ordinal).Replace("://+", "://any", StringComparison.Ordinal);
            if (!IsHttpUrl(checkable))
                node["Urls"].Error($"'{ConfigNode.Shorten(url)}' is not an http:// or https:// URL (separate several with ';')");
        }
        return new DashboardConfig { Urls = urls, TokenEnv = node["TokenEnv"].EnvName() };
    }

    private static bool IsHttpUrl(string text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && !string.IsNullOrEmpty(uri.Host);
}
