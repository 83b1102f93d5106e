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
        var samples = new Dictionary<(string Name, string Labels), double>();
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
            string family = name;
            if (!types.ContainsKey(name))
            {
                // A histogram's samples are <family>_bucket{le="…"}, <family>_sum and <family>_count.
                foreach (var suffix in new[] { "_bucket", "_sum", "_count" })
                {
                    if (name.EndsWith(suffix, StringComparison.Ordinal) && types.TryGetValue(name[..^suffix.Length], out var t0) && t0 == "histogram")
                    {
                        family = name[..^suffix.Length];
                        Assert.True(suffix != "_bucket" || s.Groups[2].Value.Contains("le=\"", StringComparison.Ordinal), $"bucket without le: '{line}'");
                    }
                }
            }

            Assert.True(types.TryGetValue(family, out var type), $"sample of {name} before its TYPE");
            Assert.True(type != "histogram" || family != name, $"histogram {name} sampled without _bucket/_sum/_count");
            if (type == "counter")
            {
                Assert.EndsWith("_total", name, StringComparison.Ordinal);
            }

            Assert.True(double.TryParse(s.Groups[3].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out double value), $"bad value in '{line}'");
            Assert.True(samples.TryAdd((name, s.Groups[2].Value.TrimEnd(',')), value), $"duplicate sample '{line}'");
        }

        foreach (var (family, type) in types.Where(t => t.Value == "histogram"))
        {
            // Buckets are cumulative, end with +Inf, and +Inf equals the count.
            var buckets = samples.Where(k => k.Key.Name == family + "_bucket")
                .Select(k => (Le: ParseLe(k.Key.Labels), Count: k.Value)).OrderBy(b => b.Le).ToList();
            Assert.True(buckets.Count > 0 && double.IsPositiveInfinity(buckets[^1].Le), $"{family}: no +Inf bucket");
            for (int i = 1; i < buckets.Count; i++)
            {
                Assert.True(buckets[i].Count >= buckets[i - 1].Count, $"{family}: buckets not cumulative at le={buckets[i].Le}");
            }

            Assert.Equal(samples[(family + "_count", "")], buckets[^1].Count);
            Assert.True(samples.ContainsKey((family + "_sum", "")), $"{family}: no _sum");
        }

        return samples;
    }

    private static double ParseLe(string labels)
    {
        var m = Regex.Match(labels, "le=\"([^\"]*)\"");
        Assert.True(m.Success, $"no le in {labels}");
        return m.Groups[1].Value == "+Inf" ? double.PositiveInfinity : double.Parse(m.Groups[1].Value, NumberStyles.Float, CultureInfo.InvariantCulture);
    }
}
