using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using EdgeCollector.OpcUa.Messages;

namespace EdgeCollector.OpcUa.Encoding;

/// <summary>
/// Maps binary encoding ids to structure factories so ExtensionObjects and service messages decode to
/// typed objects. The stack's own types are built in; callers may add vendor structures.
/// </summary>
public static class UaTypeRegistry
{
    private static readonly ConcurrentDictionary<NodeId, Func<IUaEncodeable>> Extra = new();

    /// <summary>Registers a structure by its binary encoding id.</summary>
    public static void Register(NodeId encodingId, Func<IUaEncodeable> factory) => Extra[encodingId] = factory;

    /// <summary>Creates an empty instance of the structure with this encoding id.</summary>
    public static bool TryCreate(NodeId encodingId, [NotNullWhen(true)] out IUaEncodeable? value)
    {
        ArgumentNullException.ThrowIfNull(encodingId);
        value = null;
        if (encodingId.NamespaceIndex == 0 && encodingId.IdType == IdType.Numeric)
            value = GeneratedTypeFactory.Create(encodingId.NumericId);
        if (value is null && Extra.TryGetValue(encodingId, out var factory))
            value = factory();
        return value is not null;
    }
}
