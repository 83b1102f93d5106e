using EdgeCollector.Configuration;

namespace EdgeCollector.Host.Tests.Configuration;

/// <summary>
/// Configuration tests read (and some set) process environment variables, so they run in one
/// collection that never runs in parallel with other tests.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ConfigurationCollection
{
    public const string Name = "Configuration (process environment)";
}

internal static class ConfigTestSupport
{
    /// <summary>The repository root: the first directory up from the test binaries holding EdgeCollector.sln.</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    public static string RepoPath(params string[] parts) => Path.Combine([RepoRoot, .. parts]);

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "EdgeCollector.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException($"No EdgeCollector.sln above {AppContext.BaseDirectory}");
    }

    /// <summary>Writes <paramref name="json"/> to a temporary file and loads it.</summary>
    public static ConfigLoadResult LoadJson(string json, IDictionary<string, string?>? overrides = null)
    {
        var path = Path.Combine(Path.GetTempPath(), $"edgecollector-config-test-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json);
        try
        {
            return ConfigLoader.Load(path, overrides);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>Sets environment variables for the duration of a test.</summary>
    public static IDisposable Environment(params (string Name, string? Value)[] variables)
    {
        var previous = variables.Select(v => (v.Name, System.Environment.GetEnvironmentVariable(v.Name))).ToArray();
        foreach (var (name, value) in variables)
            System.Environment.SetEnvironmentVariable(name, value);
        return new Restore(previous);
    }

    private sealed class Restore((string Name, string? Value)[] previous) : IDisposable
    {
        public void Dispose()
        {
            foreach (var (name, value) in previous)
                System.Environment.SetEnvironmentVariable(name, value);
        }
    }

    /// <summary>A small valid configuration that the tests break one key at a time.</summary>
    public const string ValidJson = """
        {
          // comments and trailing commas are allowed
          "Site": { "Id": "t", "TimeZone": "UTC", "ShiftStarts": ["06:00", "18:00",], },
          "Sources": [
            { "Name": "plc", "Type": "OpcUa", "Endpoint": "opc.tcp://127.0.0.1:4840", "Security": { "Mode": "None" },
              "Tags": [ { "Tag": "F1.State", "NodeId": "ns=2;s=F1.State" } ] },
            { "Name": "meters", "Type": "ModbusTcp", "Host": "127.0.0.1", "Port": 502,
              "Tags": [ { "Tag": "F1.GasTotal", "Address": 0, "DataType": "UInt32", "WordOrder": "CDAB", "Unit": "Nm3" },
                        { "Tag": "F1.PowerTotal", "Address": 2, "DataType": "Float32", "Unit": "kWh" } ] },
            { "Name": "charge", "Type": "Scale", "Port": "/dev/ttyS0", "Protocol": "XK3190-A9" }
          ],
          "Furnaces": [ { "Id": "F1", "StateTag": "F1.State",
            "Meters": [ { "Tag": "F1.GasTotal", "Kind": "Fuel", "Fuel": "NaturalGas" },
                        { "Tag": "F1.PowerTotal", "Kind": "Electricity" } ],
            "Scales": [ { "Source": "charge", "Role": "Charge" } ] } ],
          "Factors": { "Set": "t",
            "Fuels": { "NaturalGas": { "NcvGJPerNm3": 0.038931, "CarbonTCPerTJ": 15.3, "Oxidation": 0.99, "Source": "s" } },
            "Electricity": { "GridTCO2PerMWh": 0.5366, "Source": "s" },
            "MaterialYield": { "Primary": 0.99, "PreConsumer": 0.97, "PostConsumerUbc": 0.9, "PostConsumerOther": 0.92 },
            "MaterialYieldSource": "s" }
        }
        """;
}
