using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;

namespace EdgeCollector.Configuration;

/// <summary>Collects the problems found while reading a configuration, one line per problem.</summary>
internal sealed class ConfigProblems
{
    private readonly List<string> _messages = [];

    public IReadOnlyList<string> Messages => _messages;

    public void Add(string path, string message) =>
        _messages.Add(path.Length == 0 ? message : $"{path}: {message}");
}

/// <summary>
/// A snapshot of a configuration as a tree, built once from its flattened keys. The reader walks
/// this instead of <see cref="IConfiguration"/>, whose <c>GetChildren</c> scans every key of every
/// provider on each call: a walk over a plant with tens of thousands of tags would be quadratic.
/// </summary>
internal sealed class ConfigTree
{
    private readonly Dictionary<string, ConfigTree> _children = new(StringComparer.OrdinalIgnoreCase);
    private List<ConfigTree>? _ordered;

    private ConfigTree(string key, string path)
    {
        Key = key;
        Path = path;
    }

    public string Key { get; }

    /// <summary>The configuration path (<c>Sources:1:Tags:0:WordOrder</c>); "" for the root.</summary>
    public string Path { get; }

    public string? Value { get; private set; }

    /// <summary>Children in configuration order (numeric keys numerically, as <see cref="ConfigurationKeyComparer"/> sorts).</summary>
    public IReadOnlyList<ConfigTree> Children =>
        _ordered ??= [.. _children.Values.OrderBy(c => c.Key, ConfigurationKeyComparer.Instance)];

    public ConfigTree? Child(string key) => _children.GetValueOrDefault(key);

    /// <summary>Builds the tree; keys compare case-insensitively and the first spelling of a key is kept.</summary>
    public static ConfigTree Build(IEnumerable<KeyValuePair<string, string?>> flat)
    {
        var root = new ConfigTree("", "");
        foreach (var (key, value) in flat)
        {
            var node = root;
            foreach (var segment in key.Split(ConfigurationPath.KeyDelimiter))
            {
                if (!node._children.TryGetValue(segment, out var child))
                {
                    child = new ConfigTree(segment, node.Path.Length == 0 ? segment : node.Path + ConfigurationPath.KeyDelimiter + segment);
                    node._children[segment] = child;
                    node._ordered = null;
                }
                node = child;
            }
            node.Value = value;
        }
        return root;
    }
}

/// <summary>
/// One key of the configuration tree with typed readers that report every problem (with the
/// key's path, <c>Sources[1].Tags[0].WordOrder</c>) instead of throwing, so start-up can list
/// them all at once. An absent key, a JSON <c>null</c> and an empty string all read as "not set"
/// (an empty override such as <c>EDGE_Furnaces__0__StateTag=</c> clears a value).
/// </summary>
internal readonly partial struct ConfigNode
{
    private readonly ConfigTree? _tree;
    private readonly string _configurationPath;
    private readonly ConfigProblems _problems;

    public ConfigNode(ConfigTree root, ConfigProblems problems)
        : this(root, root.Path, problems)
    {
    }

    private ConfigNode(ConfigTree? tree, string configurationPath, ConfigProblems problems)
    {
        _tree = tree;
        _configurationPath = configurationPath;
        _problems = problems;
    }

    /// <summary>The key's last segment ("" for the root).</summary>
    public string Key => _tree?.Key ?? ConfigurationPath.GetSectionKey(_configurationPath);

    /// <summary>The key's path in the form the messages use: <c>Sources[1].Tags[0].WordOrder</c>.</summary>
    public string Path => FormatPath(_configurationPath);

    private string? RawValue => _tree?.Value;

    private bool HasChildren => _tree is { Children.Count: > 0 };

    /// <summary>True when the key holds a non-empty value or child keys.</summary>
    public bool Exists => !string.IsNullOrEmpty(RawValue) || HasChildren;

    /// <summary>The child key <paramref name="key"/> (which may not exist).</summary>
    public ConfigNode this[string key] => new(
        _tree?.Child(key),
        _configurationPath.Length == 0 ? key : ConfigurationPath.Combine(_configurationPath, key),
        _problems);

    /// <summary>Records a problem at this key.</summary>
    public void Error(string message) => _problems.Add(Path, message);

    /// <summary>The direct children, as configuration orders them (numbers numerically).</summary>
    public IEnumerable<ConfigNode> Children()
    {
        var problems = _problems;
        return (_tree?.Children ?? []).Select(c => new ConfigNode(c, c.Path, problems));
    }

    /// <summary>Reports every child key not in <paramref name="allowed"/> (compared case-insensitively, as configuration keys are).</summary>
    /// <param name="allowed">The keys this object may hold.</param>
    /// <param name="elsewhere">Keys that are valid for another variant of this object (another source type): reported, when set, with <paramref name="elsewhereMessage"/>.</param>
    /// <param name="elsewhereMessage">The message for a key from <paramref name="elsewhere"/>.</param>
    public void AllowOnly(IReadOnlyCollection<string> allowed, IReadOnlyCollection<string>? elsewhere = null, string? elsewhereMessage = null)
    {
        foreach (var child in Children())
        {
            if (allowed.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
                continue;
            if (elsewhere is not null && elsewhere.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
            {
                if (child.Exists)
                    child.Error(elsewhereMessage ?? "not used here");
                continue;
            }
            child.Error(UnknownKeyMessage(child.Key, allowed));
        }
    }

    /// <summary>True when this key is an object (has child keys) or is not set; reports a plain value.</summary>
    public bool IsObject() => IsContainer("an object");

    private bool IsContainer(string what)
    {
        if (string.IsNullOrEmpty(RawValue))
            return true;
        if (HasChildren)
        {
            // Only an override can do this (EDGE_Site=x next to the file's Site object).
            Error($"holds keys and also the value '{Shorten(RawValue)}' (from an override?), which means nothing here");
            return true;
        }
        Error($"expected {what}, found the value '{Shorten(RawValue)}'");
        return false;
    }

    /// <summary>The elements of an array key (none when not set); each keeps its index in its path.</summary>
    public IReadOnlyList<ConfigNode> Items()
    {
        if (!IsArrayLike("an array"))
            return [];
        return Children().ToList();
    }

    /// <summary>The entries of a dictionary-like key (none when not set).</summary>
    public IReadOnlyList<ConfigNode> Entries() => IsObject() ? Children().ToList() : [];

    private bool IsArrayLike(string what)
    {
        if (!IsContainer(what))
            return false;
        var notIndex = Children().FirstOrDefault(c => !int.TryParse(c.Key, NumberStyles.None, CultureInfo.InvariantCulture, out _));
        if (notIndex._problems is not null)
        {
            Error($"expected {what}, found the key '{notIndex.Key}'");
            return false;
        }
        return true;
    }

    /// <summary>The value as text, or null when not set; reports an object or array where a value belongs.</summary>
    public string? Text()
    {
        if (HasChildren)
        {
            Error("expected a value, found an object or array");
            return null;
        }
        var value = RawValue;
        return string.IsNullOrEmpty(value) ? null : value;
    }

    /// <summary>The value as text; reports it when not set.</summary>
    public string? RequiredText()
    {
        var text = Text();
        if (text is null && !HasChildren)
            Error("required");
        return text is not null && string.IsNullOrWhiteSpace(text) ? ReportBlank() : text;
    }

    private string? ReportBlank()
    {
        Error("must not be blank");
        return null;
    }

    /// <summary>A name or id: set, without leading or trailing white space.</summary>
    public string? Name(bool required = true)
    {
        var text = required ? RequiredText() : Text();
        if (text is not null && text.Trim().Length != text.Length)
        {
            Error($"'{text}' has leading or trailing white space");
            return null;
        }
        return text;
    }

    /// <summary>One of <paramref name="allowed"/>, spelled exactly (enums in contracts.md are case-sensitive).</summary>
    public string? OneOf(IReadOnlyList<string> allowed, bool required = false)
    {
        var text = required ? RequiredText() : Text();
        if (text is null)
            return null;
        if (allowed.Contains(text, StringComparer.Ordinal))
            return text;
        var message = $"'{Shorten(text)}' is not one of {string.Join(", ", allowed)}";
        var caseOnly = allowed.FirstOrDefault(a => string.Equals(a, text, StringComparison.OrdinalIgnoreCase));
        Error(caseOnly is null ? message : $"{message} (spelling is case-sensitive: '{caseOnly}')");
        return null;
    }

    /// <summary>An enum member by its exact name (numbers are not accepted).</summary>
    public T? Enum<T>(bool required = false)
        where T : struct, Enum
    {
        var name = OneOf(System.Enum.GetNames<T>(), required);
        return name is null ? null : System.Enum.Parse<T>(name, ignoreCase: false);
    }

    /// <summary>A whole number in [<paramref name="min"/>, <paramref name="max"/>], read with the invariant culture.</summary>
    public int? Int(int min, int max, bool required = false)
    {
        var text = required ? RequiredText() : Text();
        if (text is null)
            return null;
        if (!int.TryParse(text.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            // 1200.0 or 1e3 is a whole number written as a real one: accept it, reject 1200.5.
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var real)
                || real != Math.Floor(real) || real < int.MinValue || real > int.MaxValue)
            {
                Error($"'{Shorten(text)}' is not a whole number");
                return null;
            }
            value = (int)real;
        }
        if (value < min || value > max)
        {
            Error($"{value.ToString(CultureInfo.InvariantCulture)} is out of range {min.ToString(CultureInfo.InvariantCulture)}..{max.ToString(CultureInfo.InvariantCulture)}");
            return null;
        }
        return value;
    }

    /// <summary>A finite number read with the invariant culture ('.' decimal separator), checked against a range.</summary>
    /// <param name="min">Smallest allowed value.</param>
    /// <param name="max">Largest allowed value.</param>
    /// <param name="required">Report the key when not set.</param>
    /// <param name="minExclusive">The value must be strictly greater than <paramref name="min"/>.</param>
    public double? Number(double min = double.MinValue, double max = double.MaxValue, bool required = false, bool minExclusive = false)
    {
        var text = required ? RequiredText() : Text();
        if (text is null)
            return null;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
        {
            Error(text.Contains(',', StringComparison.Ordinal)
                ? $"'{Shorten(text)}' is not a number (numbers use '.' as the decimal separator, whatever the machine's culture)"
                : $"'{Shorten(text)}' is not a number");
            return null;
        }
        var tooSmall = minExclusive ? value <= min : value < min;
        if (tooSmall || value > max)
        {
            Error(RangeMessage(value, min, max, minExclusive));
            return null;
        }
        return value;
    }

    private static string RangeMessage(double value, double min, double max, bool minExclusive)
    {
        var v = value.ToString("R", CultureInfo.InvariantCulture);
        var lo = min.ToString("R", CultureInfo.InvariantCulture);
        var hi = max.ToString("R", CultureInfo.InvariantCulture);
        if (max == double.MaxValue)
            return minExclusive ? $"{v} must be greater than {lo}" : $"{v} must be at least {lo}";
        if (min == double.MinValue)
            return $"{v} must be at most {hi}";
        return minExclusive ? $"{v} is out of range ({lo}, {hi}]" : $"{v} is out of range {lo}..{hi}";
    }

    /// <summary>
    /// The name of an environment variable (keys ending in <c>Env</c>). The value is never echoed:
    /// a value that is not a variable name may be the secret itself.
    /// </summary>
    public string? EnvName()
    {
        var text = Text();
        if (text is null)
            return null;
        if (EnvNamePattern().IsMatch(text))
        {
            if (!text.StartsWith(ConfigLoader.EnvironmentPrefix, StringComparison.OrdinalIgnoreCase))
                return text;
            Error($"'{text}' starts with {ConfigLoader.EnvironmentPrefix}, the prefix of configuration overrides: the secret would be read as a configuration key; choose another name");
            return null;
        }
        Error(text.Any(char.IsWhiteSpace)
            ? "must name an environment variable, and this value contains spaces: it looks like a secret or a sentence (secrets are never in the file; put the secret into the environment and name the variable here)"
            : "must name an environment variable (letters, digits and '_', not starting with a digit); secrets are never in the file");
        return null;
    }

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex EnvNamePattern();

    /// <summary>Turns a configuration path (<c>Sources:1:Tags:0:WordOrder</c>) into the message form (<c>Sources[1].Tags[0].WordOrder</c>).</summary>
    public static string FormatPath(string configurationPath)
    {
        var builder = new StringBuilder(configurationPath.Length + 8);
        foreach (var segment in configurationPath.Split(ConfigurationPath.KeyDelimiter))
        {
            if (builder.Length > 0 && segment.Length > 0 && segment.All(char.IsAsciiDigit))
                builder.Append('[').Append(segment).Append(']');
            else
            {
                if (builder.Length > 0)
                    builder.Append('.');
                builder.Append(segment);
            }
        }
        return builder.ToString();
    }

    // Keys people write when they follow the C# model or habit instead of contracts.md §1.
    private static readonly Dictionary<string, string> KnownMistakes = new(StringComparer.OrdinalIgnoreCase)
    {
        ["SecurityMode"] = "write \"Security\": { \"Mode\": … }",
        ["SecurityPolicy"] = "write \"Security\": { \"Policy\": … }",
        ["Policy"] = "write \"Security\": { \"Policy\": … }",
        ["Mode"] = "write \"Security\": { \"Mode\": … }",
        ["UserName"] = "write \"User\": { \"Name\": … }",
        ["TcpPort"] = "write \"Port\"",
        ["SerialPort"] = "write \"Port\"",
        ["MaxValue"] = "the upper physical limit is \"Max\"",
        ["MinValue"] = "the lower physical limit is \"Min\"",
        ["Password"] = "secrets are never in the file: name the environment variable that holds it with \"PasswordEnv\"",
        ["Token"] = "secrets are never in the file: name the environment variable that holds it with \"TokenEnv\"",
    };

    internal static string UnknownKeyMessage(string key, IReadOnlyCollection<string> allowed)
    {
        if (KnownMistakes.TryGetValue(key, out var hint))
            return $"unknown key ({hint})";
        var best = allowed
            .Select(a => (Key: a, Distance: Distance(a.ToUpperInvariant(), key.ToUpperInvariant())))
            .OrderBy(x => x.Distance)
            .FirstOrDefault();
        if (best.Key is not null && best.Distance <= Math.Max(1, Math.Min(3, key.Length / 3)))
            return $"unknown key (did you mean '{best.Key}'?)";
        return allowed.Count == 0
            ? "unknown key (nothing is allowed here)"
            : $"unknown key (allowed here: {string.Join(", ", allowed)})";
    }

    /// <summary>Levenshtein distance, for "did you mean" hints.</summary>
    internal static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
            previous[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }

    /// <summary>Keeps a quoted value short in a message.</summary>
    public static string Shorten(string text) => text.Length <= 60 ? text : string.Concat(text.AsSpan(0, 57), "...");
}
