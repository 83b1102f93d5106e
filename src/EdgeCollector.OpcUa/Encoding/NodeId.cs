using System.Globalization;
using System.Text;

namespace EdgeCollector.OpcUa.Encoding;

/// <summary>The identifier kinds of a NodeId (OPC 10000-3 §8.2.3).</summary>
public enum IdType : byte
{
    Numeric = 0,
    String = 1,
    Guid = 2,
    Opaque = 3,
}

/// <summary>
/// An OPC UA NodeId: namespace index plus a numeric, string, GUID or opaque identifier
/// (OPC 10000-3 §8.2, text form OPC 10000-6 §5.3.1.10). Immutable, compared by value.
/// </summary>
public sealed class NodeId : IEquatable<NodeId>
{
    /// <summary>The null NodeId (ns=0;i=0).</summary>
    public static readonly NodeId Null = new(0, 0u);

    /// <summary>Creates a numeric NodeId.</summary>
    public NodeId(ushort namespaceIndex, uint identifier)
    {
        NamespaceIndex = namespaceIndex;
        IdType = IdType.Numeric;
        Identifier = identifier;
    }

    /// <summary>Creates a string NodeId.</summary>
    public NodeId(ushort namespaceIndex, string identifier)
    {
        ArgumentNullException.ThrowIfNull(identifier);
        NamespaceIndex = namespaceIndex;
        IdType = IdType.String;
        Identifier = identifier;
    }

    /// <summary>Creates a GUID NodeId.</summary>
    public NodeId(ushort namespaceIndex, Guid identifier)
    {
        NamespaceIndex = namespaceIndex;
        IdType = IdType.Guid;
        Identifier = identifier;
    }

    /// <summary>Creates an opaque (ByteString) NodeId.</summary>
    public NodeId(ushort namespaceIndex, byte[] identifier)
    {
        ArgumentNullException.ThrowIfNull(identifier);
        NamespaceIndex = namespaceIndex;
        IdType = IdType.Opaque;
        Identifier = identifier;
    }

    /// <summary>The namespace index into the server's NamespaceArray.</summary>
    public ushort NamespaceIndex { get; }

    /// <summary>The identifier kind.</summary>
    public IdType IdType { get; }

    /// <summary>The identifier: <see cref="uint"/>, <see cref="string"/>, <see cref="System.Guid"/> or <see cref="byte"/>[].</summary>
    public object Identifier { get; }

    /// <summary>The numeric identifier (throws for other kinds).</summary>
    public uint NumericId => (uint)Identifier;

    /// <summary>True for ns=0;i=0.</summary>
    public bool IsNull => NamespaceIndex == 0 && IdType switch
    {
        IdType.Numeric => NumericId == 0,
        IdType.String => ((string)Identifier).Length == 0,
        IdType.Guid => (Guid)Identifier == Guid.Empty,
        _ => ((byte[])Identifier).Length == 0,
    };

    /// <summary>Converts a namespace-0 numeric id.</summary>
    public static implicit operator NodeId(uint ns0Identifier) => new(0, ns0Identifier);

    /// <summary>
    /// Parses the text form <c>ns=2;s=F1.GasTotal</c>, <c>i=85</c>, <c>g=…</c>, <c>b=base64</c>.
    /// The identifier after <c>s=</c> is taken verbatim, so Siemens names such as
    /// <c>ns=3;s="DB_F1"."GasTotal"</c> keep their quotes. <c>nsu=</c> needs a namespace table:
    /// use <see cref="ExpandedNodeId.Parse"/> and resolve it.
    /// </summary>
    public static NodeId Parse(string text)
    {
        var expanded = ExpandedNodeId.Parse(text);
        if (expanded.NamespaceUri is not null)
            throw new FormatException($"'{text}' names its namespace by URI; resolve it with ExpandedNodeId.Parse(...).Resolve(namespaces).");
        return expanded.NodeId;
    }

    /// <summary>Parses without throwing.</summary>
    public static bool TryParse(string text, out NodeId? nodeId)
    {
        try
        {
            nodeId = Parse(text);
            return true;
        }
        catch (FormatException)
        {
            nodeId = null;
            return false;
        }
    }

    internal static NodeId ParseIdentifier(ushort ns, ReadOnlySpan<char> text, string whole)
    {
        if (text.Length < 2 || text[1] != '=')
            throw new FormatException($"'{whole}' is not a NodeId (expected i=, s=, g= or b=; OPC 10000-6 §5.3.1.10).");
        var value = text[2..];
        switch (text[0])
        {
            case 'i':
                if (!uint.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var numeric))
                    throw new FormatException($"'{whole}': numeric identifier is not a UInt32.");
                return new NodeId(ns, numeric);
            case 's':
                return new NodeId(ns, value.ToString());
            case 'g':
                if (!Guid.TryParse(value, out var guid))
                    throw new FormatException($"'{whole}': GUID identifier is malformed.");
                return new NodeId(ns, guid);
            case 'b':
                try
                {
                    return new NodeId(ns, Convert.FromBase64String(value.ToString()));
                }
                catch (FormatException)
                {
                    throw new FormatException($"'{whole}': opaque identifier is not base64.");
                }

            default:
                throw new FormatException($"'{whole}' is not a NodeId (unknown identifier type '{text[0]}').");
        }
    }

    /// <summary>The identifier part of the text form, e.g. <c>i=85</c> or <c>s=F1.State</c>.</summary>
    internal string IdentifierText() => IdType switch
    {
        IdType.Numeric => "i=" + NumericId.ToString(CultureInfo.InvariantCulture),
        IdType.String => "s=" + (string)Identifier,
        IdType.Guid => "g=" + ((Guid)Identifier).ToString("D", CultureInfo.InvariantCulture),
        _ => "b=" + Convert.ToBase64String((byte[])Identifier),
    };

    /// <inheritdoc />
    public override string ToString() =>
        NamespaceIndex == 0 ? IdentifierText() : "ns=" + NamespaceIndex.ToString(CultureInfo.InvariantCulture) + ";" + IdentifierText();

    /// <inheritdoc />
    public bool Equals(NodeId? other)
    {
        if (other is null || other.NamespaceIndex != NamespaceIndex || other.IdType != IdType)
            return false;
        return IdType switch
        {
            IdType.Numeric => NumericId == other.NumericId,
            IdType.String => string.Equals((string)Identifier, (string)other.Identifier, StringComparison.Ordinal),
            IdType.Guid => (Guid)Identifier == (Guid)other.Identifier,
            _ => ((byte[])Identifier).AsSpan().SequenceEqual((byte[])other.Identifier),
        };
    }

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as NodeId);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(NamespaceIndex);
        hash.Add(IdType);
        if (IdType == IdType.Opaque)
            hash.AddBytes((byte[])Identifier);
        else
            hash.Add(Identifier);
        return hash.ToHashCode();
    }

    /// <summary>Value equality.</summary>
    public static bool operator ==(NodeId? left, NodeId? right) => left is null ? right is null : left.Equals(right);

    /// <summary>Value inequality.</summary>
    public static bool operator !=(NodeId? left, NodeId? right) => !(left == right);
}

/// <summary>
/// A NodeId that may name its namespace by URI instead of index and may point to another server
/// (OPC 10000-6 §5.2.2.10). Text form: <c>nsu=http://…;s=…</c>, optionally prefixed by <c>svr=n;</c>.
/// </summary>
public sealed record ExpandedNodeId
{
    /// <summary>The null ExpandedNodeId.</summary>
    public static readonly ExpandedNodeId Null = new(NodeId.Null);

    /// <summary>Creates an ExpandedNodeId.</summary>
    public ExpandedNodeId(NodeId nodeId, string? namespaceUri = null, uint serverIndex = 0)
    {
        NodeId = nodeId;
        NamespaceUri = namespaceUri;
        ServerIndex = serverIndex;
    }

    /// <summary>The NodeId; its namespace index is meaningless when <see cref="NamespaceUri"/> is set.</summary>
    public NodeId NodeId { get; }

    /// <summary>The namespace URI, or null when the index applies.</summary>
    public string? NamespaceUri { get; }

    /// <summary>The index into the server table; 0 is the local server.</summary>
    public uint ServerIndex { get; }

    /// <summary>Converts a local NodeId.</summary>
    public static implicit operator ExpandedNodeId(NodeId nodeId) => new(nodeId);

    /// <summary>
    /// Resolves the namespace URI through the server's NamespaceArray (read at run time), giving a NodeId
    /// with the right index. Throws <see cref="UaException"/> (BadNodeIdUnknown) when the URI is not on the server.
    /// </summary>
    public NodeId Resolve(IReadOnlyList<string> namespaceArray)
    {
        ArgumentNullException.ThrowIfNull(namespaceArray);
        if (NamespaceUri is null)
            return NodeId;
        for (var i = 0; i < namespaceArray.Count; i++)
        {
            if (string.Equals(namespaceArray[i], NamespaceUri, StringComparison.Ordinal))
                return WithNamespace(NodeId, (ushort)i);
        }

        throw new UaException(StatusCodes.BadNodeIdUnknown, $"Namespace '{NamespaceUri}' is not in the server's NamespaceArray");
    }

    /// <summary>The same identifier in another namespace index.</summary>
    public static NodeId WithNamespace(NodeId id, ushort ns) => (id ?? throw new ArgumentNullException(nameof(id))).IdType switch
    {
        IdType.Numeric => new NodeId(ns, id.NumericId),
        IdType.String => new NodeId(ns, (string)id.Identifier),
        IdType.Guid => new NodeId(ns, (Guid)id.Identifier),
        _ => new NodeId(ns, (byte[])id.Identifier),
    };

    /// <summary>Parses <c>[svr=n;][ns=i;|nsu=uri;](i|s|g|b)=…</c> (OPC 10000-6 §5.3.1.11).</summary>
    public static ExpandedNodeId Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var rest = text.AsSpan().Trim();
        uint server = 0;
        if (rest.StartsWith("svr=", StringComparison.Ordinal))
        {
            var semi = rest.IndexOf(';');
            if (semi < 0 || !uint.TryParse(rest[4..semi], NumberStyles.None, CultureInfo.InvariantCulture, out server))
                throw new FormatException($"'{text}': malformed svr= prefix.");
            rest = rest[(semi + 1)..];
        }

        if (rest.StartsWith("nsu=", StringComparison.Ordinal))
        {
            // The URI may itself contain ';' only if escaped; the identifier starts after the last ";x=" that
            // begins a known identifier type, so search for the first ";i=", ";s=", ";g=", ";b=".
            var idStart = FindIdentifierStart(rest);
            if (idStart < 0)
                throw new FormatException($"'{text}': nsu= without an identifier.");
            var uri = Uri.UnescapeDataString(rest[4..idStart].ToString());
            return new ExpandedNodeId(NodeId.ParseIdentifier(0, rest[(idStart + 1)..], text), uri, server);
        }

        ushort ns = 0;
        if (rest.StartsWith("ns=", StringComparison.Ordinal))
        {
            var semi = rest.IndexOf(';');
            if (semi < 0 || !ushort.TryParse(rest[3..semi], NumberStyles.None, CultureInfo.InvariantCulture, out ns))
                throw new FormatException($"'{text}': malformed ns= prefix.");
            rest = rest[(semi + 1)..];
        }

        return new ExpandedNodeId(NodeId.ParseIdentifier(ns, rest, text), null, server);
    }

    private static int FindIdentifierStart(ReadOnlySpan<char> s)
    {
        for (var i = 0; i + 2 < s.Length; i++)
        {
            if (s[i] == ';' && s[i + 2] == '=' && s[i + 1] is 'i' or 's' or 'g' or 'b')
                return i;
        }

        return -1;
    }

    /// <inheritdoc />
    public override string ToString()
    {
        var sb = new StringBuilder();
        if (ServerIndex != 0)
            sb.Append("svr=").Append(ServerIndex.ToString(CultureInfo.InvariantCulture)).Append(';');
        if (NamespaceUri is not null)
            sb.Append("nsu=").Append(NamespaceUri).Append(';').Append(NodeId.IdentifierText());
        else
            sb.Append(NodeId.ToString());
        return sb.ToString();
    }
}

/// <summary>A name qualified by a namespace index (OPC 10000-3 §8.3).</summary>
/// <param name="NamespaceIndex">Namespace index of the name.</param>
/// <param name="Name">The name text.</param>
public sealed record QualifiedName(ushort NamespaceIndex, string? Name)
{
    /// <summary>The null QualifiedName.</summary>
    public static readonly QualifiedName Null = new(0, null);

    /// <inheritdoc />
    public override string ToString() =>
        NamespaceIndex == 0 ? Name ?? "" : NamespaceIndex.ToString(CultureInfo.InvariantCulture) + ":" + Name;
}

/// <summary>Human-readable text with an optional locale (OPC 10000-3 §8.5).</summary>
/// <param name="Locale">Locale id such as "en-US", or null.</param>
/// <param name="Text">The text, or null.</param>
public sealed record LocalizedText(string? Locale, string? Text)
{
    /// <summary>The null LocalizedText.</summary>
    public static readonly LocalizedText Null = new(null, null);

    /// <summary>Text without locale.</summary>
    public static implicit operator LocalizedText(string text) => new(null, text);

    /// <inheritdoc />
    public override string ToString() => Text ?? "";
}
