using System.Globalization;
using System.Text.RegularExpressions;

namespace EdgeCollector.Host.Tests.Sources;

/// <summary>
/// A strict parser of the Prometheus text exposition format 0.0.4: every sample's family has a
/// HELP and a TYPE before it, names and labels are well-formed, counters end in <c>_total</c>,
/// values are numbers; anything else throws.
/// </summary>
internal static partial class PrometheusText
{
    [GeneratedRegex(@"^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$")]
    private static partial Regex Help();

    [GeneratedRegex(@"^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$")]
    private static partial Regex Type();

    [GeneratedRegex(@"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{((?:[a-zA-Z_][a-zA-Z0-9_]*=""(?:[^""\\\n]|\\[\\""n])*"",?)*)\})? (\S+)$")]
    private static partial Regex Sample();

    public static Dictionary<(string Name, string Labels), double> Parse(string text)
    {
        var help = new HashSet<string>();
        var types = new Dictionary<string, string>();
        var samples = new Dictionary<(string, string), double>();
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0)
            {
                continue;
            }

            if (Help().Match(line) is { Success: true } h)
            {
                Assert.True(help.Add(h.Groups[1].Value), $"HELP twice for {h.Groups[1].Value}");
                continue;
            }

            if (Type().Match(line) is { Success: true } t)
            {
                Assert.True(help.Contains(t.Groups[1].Value), $"TYPE before HELP for {t.Groups[1].Value}");
                types.Add(t.Groups[1].Value, t.Groups[2].Value);
                continue;
            }

            var s = Sample().Match(line);
            Assert.True(s.Success, $"not a Prometheus sample line: '{line}'");
            string name = s.Groups[1].Value;
            Assert.True(types.TryGetValue(name, out var type), $"sample of {name} before its TYPE");
            if (type == "counter")
            {
                Assert.EndsWith("_total", name, StringComparison.Ordinal);
            }

            Assert.True(double.TryParse(s.Groups[3].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out double value), $"bad value in '{line}'");
            Assert.True(samples.TryAdd((name, s.Groups[2].Value.TrimEnd(',')), value), $"duplicate sample '{line}'");
        }

        return samples;
    }
}
