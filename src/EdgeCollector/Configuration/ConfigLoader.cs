using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.EnvironmentVariables;
using Microsoft.Extensions.Configuration.Json;

namespace EdgeCollector.Configuration;

/// <summary>
/// Loads the collector configuration (contracts.md §1) and validates all of it before anything
/// starts. Later sources override earlier ones, key by key:
/// <code>
///   the JSON file (comments and trailing commas allowed), or the embedded demo.json when no path is given
///   → environment variables prefixed EDGE_   (EDGE_Uplink__Mqtt__Broker=mqtts://…)
///   → overrides from the command line        (--set Uplink:Mqtt:Broker=mqtts://…)
/// </code>
/// </summary>
public static class ConfigLoader
{
    /// <summary>The prefix of environment variables that override configuration keys.</summary>
    public const string EnvironmentPrefix = "EDGE_";

    /// <summary>The manifest resource name of the embedded demo configuration (config/demo.json).</summary>
    public const string DemoResourceName = "demo.json";

    /// <summary>Loads and validates a configuration.</summary>
    /// <param name="path">The JSON file; null loads the embedded demo configuration.</param>
    /// <param name="overrides">Key/value overrides applied last, keys in <c>Uplink:Mqtt:Broker</c> form (see <see cref="ParseOverrides"/>).</param>
    /// <returns>The model, or every problem found.</returns>
    public static ConfigLoadResult Load(string? path, IDictionary<string, string?>? overrides = null)
    {
        string origin;
        Stream stream;
        if (path is null)
        {
            origin = "embedded " + DemoResourceName;
            stream = typeof(ConfigLoader).Assembly.GetManifestResourceStream(DemoResourceName)
                ?? throw new InvalidOperationException($"The assembly carries no {DemoResourceName} resource (see EdgeCollector.csproj).");
        }
        else
        {
            origin = System.IO.Path.GetFullPath(path);
            if (!File.Exists(origin))
                return new ConfigLoadResult(null, [$"{path}: configuration file not found ({origin})"], origin);
            try
            {
                stream = File.OpenRead(origin);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return new ConfigLoadResult(null, [$"{path}: cannot be read: {ex.Message}"], origin);
            }
        }

        // The same providers (and so the same parsing rules) as AddJsonStream and
        // AddEnvironmentVariables, read into one flat dictionary instead of an IConfigurationRoot:
        // walking a root costs a scan of every key per node (see ConfigTree).
        var json = new FlatJsonProvider();
        try
        {
            using (stream)
                json.Load(stream);
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException or JsonException or IOException)
        {
            return new ConfigLoadResult(null, [$"{path ?? DemoResourceName}: {DescribeLoadFailure(ex)}"], origin);
        }
        var environment = new FlatEnvironmentProvider(EnvironmentPrefix);
        environment.Load();

        var merged = new Dictionary<string, string?>(json.Keys, StringComparer.OrdinalIgnoreCase);
        foreach (var layer in new[] { environment.Keys, overrides ?? new Dictionary<string, string?>() })
        {
            foreach (var (key, value) in layer)
                merged[key] = value;
        }
        return ConfigReader.Read(merged, origin);
    }

    private sealed class FlatJsonProvider() : JsonStreamConfigurationProvider(new JsonStreamConfigurationSource())
    {
        public IDictionary<string, string?> Keys => Data;
    }

    private sealed class FlatEnvironmentProvider(string prefix) : EnvironmentVariablesConfigurationProvider(prefix)
    {
        public IDictionary<string, string?> Keys => Data;
    }

    /// <summary>
    /// Parses command-line <c>--set Key=Value</c> pairs into overrides for <see cref="Load"/>. Keys may be
    /// written as configuration keys (<c>Uplink:Mqtt:Broker</c>), with <c>__</c> as in environment variables,
    /// or in the form the error messages print (<c>Sources[1].Tags[0].Address</c>). An empty value clears a key.
    /// </summary>
    /// <param name="pairs">The arguments, each <c>Key=Value</c>.</param>
    /// <param name="errors">One message per malformed pair.</param>
    /// <returns>The overrides, later pairs winning.</returns>
    public static Dictionary<string, string?> ParseOverrides(IEnumerable<string> pairs, out IReadOnlyList<string> errors)
    {
        var result = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        var problems = new List<string>();
        foreach (var pair in pairs)
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var key = equals > 0 ? NormalizeKey(pair[..equals].Trim()) : null;
            if (key is null)
            {
                problems.Add($"'{pair}': expected Key=Value, e.g. Uplink:Mqtt:Broker=mqtt://10.0.0.5:1883");
                continue;
            }
            result[key] = pair[(equals + 1)..];
        }
        errors = problems;
        return result;
    }

    /// <summary><c>Sources[1].Tags[0].Address</c> or <c>Sources__1__Tags__0__Address</c> → <c>Sources:1:Tags:0:Address</c>; null when malformed.</summary>
    internal static string? NormalizeKey(string key)
    {
        var builder = new StringBuilder(key.Length);
        for (var i = 0; i < key.Length; i++)
        {
            var c = key[i];
            if (c == '[')
            {
                var close = key.IndexOf(']', i);
                if (close < 0 || close == i + 1 || !key.AsSpan(i + 1, close - i - 1).ToString().All(char.IsAsciiDigit))
                    return null;
                builder.Append(':').Append(key, i + 1, close - i - 1);
                i = close;
            }
            else if (c == '.')
                builder.Append(':');
            else if (c == '_' && i + 1 < key.Length && key[i + 1] == '_')
            {
                builder.Append(':');
                i++;
            }
            else
                builder.Append(c);
        }
        var normalized = builder.ToString();
        return normalized.Length == 0 || normalized.Split(':').Any(s => s.Length == 0) ? null : normalized;
    }

    private static string DescribeLoadFailure(Exception ex)
    {
        // The JSON provider wraps System.Text.Json's message, which carries the line and byte position.
        for (var e = ex; e is not null; e = e.InnerException)
        {
            if (e is JsonException json)
            {
                var line = json.LineNumber is long l ? (l + 1).ToString(CultureInfo.InvariantCulture) : "?";
                return $"not valid JSON near line {line}: {json.Message}";
            }
        }
        return ex.InnerException is null ? ex.Message : $"{ex.Message} {ex.InnerException.Message}";
    }
}
