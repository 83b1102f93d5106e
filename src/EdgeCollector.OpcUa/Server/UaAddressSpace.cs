using System.Collections.Concurrent;
using EdgeCollector.OpcUa.Encoding;
using EdgeCollector.OpcUa.Messages;

namespace EdgeCollector.OpcUa.Server;

/// <summary>A reference from one node to another (OPC 10000-3 §4.4).</summary>
/// <param name="ReferenceTypeId">The reference type, e.g. Organizes (35) or HasComponent (47).</param>
/// <param name="IsForward">True when the owning node is the source.</param>
/// <param name="TargetId">The other node.</param>
public sealed record UaReference(NodeId ReferenceTypeId, bool IsForward, NodeId TargetId);

/// <summary>A node of the server's address space (OPC 10000-3 §5).</summary>
public abstract class UaNode
{
    private readonly List<UaReference> _references = [];

    /// <summary>Creates a node.</summary>
    protected UaNode(NodeId nodeId, NodeClass nodeClass, QualifiedName browseName, LocalizedText? displayName)
    {
        NodeId = nodeId;
        NodeClass = nodeClass;
        BrowseName = browseName;
        DisplayName = displayName ?? new LocalizedText(null, browseName.Name);
    }

    /// <summary>The node id.</summary>
    public NodeId NodeId { get; }

    /// <summary>The node class.</summary>
    public NodeClass NodeClass { get; }

    /// <summary>The browse name.</summary>
    public QualifiedName BrowseName { get; }

    /// <summary>The display name.</summary>
    public LocalizedText DisplayName { get; }

    /// <summary>An optional description.</summary>
    public LocalizedText? Description { get; init; }

    /// <summary>A snapshot of the references of this node.</summary>
    public IReadOnlyList<UaReference> References
    {
        get
        {
            lock (_references)
                return _references.ToArray();
        }
    }

    internal void AddReference(UaReference reference)
    {
        lock (_references)
            _references.Add(reference);
    }

    /// <summary>The target of the forward HasTypeDefinition reference, if any.</summary>
    public NodeId? TypeDefinition => References.FirstOrDefault(r => r.IsForward && r.ReferenceTypeId == WellKnownNodes.HasTypeDefinition)?.TargetId;
}

/// <summary>An Object node (folders, devices, the Server object).</summary>
public sealed class UaObjectNode : UaNode
{
    /// <summary>Creates an object node.</summary>
    public UaObjectNode(NodeId nodeId, QualifiedName browseName, LocalizedText? displayName = null)
        : base(nodeId, NodeClass.Object, browseName, displayName)
    {
    }

    /// <summary>EventNotifier attribute.</summary>
    public byte EventNotifier { get; init; }
}

/// <summary>
/// A Variable node holding a value. Set it with <see cref="SetValue(Variant, StatusCode, DateTime?)"/>; monitored
/// items are notified through <see cref="ValueChanged"/>. A <see cref="Getter"/> makes the value computed on read
/// (sampled on each publishing cycle when monitored).
/// </summary>
public sealed class UaVariableNode : UaNode
{
    private DataValue _value;

    /// <summary>Creates a variable node.</summary>
    public UaVariableNode(NodeId nodeId, QualifiedName browseName, NodeId dataType, Variant initial, LocalizedText? displayName = null)
        : base(nodeId, NodeClass.Variable, browseName, displayName)
    {
        DataType = dataType;
        var now = DateTime.UtcNow;
        _value = new DataValue(initial, StatusCodes.Good, now, now);
    }

    /// <summary>DataType attribute (a namespace-0 built-in type id such as Double = 11).</summary>
    public NodeId DataType { get; }

    /// <summary>ValueRank attribute: -1 scalar, 1 one-dimensional array.</summary>
    public int ValueRank { get; init; } = -1;

    /// <summary>True when clients may write the Value.</summary>
    public bool Writable { get; init; }

    /// <summary>MinimumSamplingInterval attribute in ms.</summary>
    public double MinimumSamplingInterval { get; init; }

    /// <summary>Engineering-unit range (low, high) for percent deadbands, or null.</summary>
    public (double Low, double High)? EuRange { get; init; }

    /// <summary>Computes the value on each read, when set.</summary>
    public Func<DataValue>? Getter { get; init; }

    /// <summary>Validates a client write; return a Bad code to refuse it (after the type check).</summary>
    public Func<Variant, StatusCode>? OnWrite { get; init; }

    /// <summary>Raised after every change of the value.</summary>
    public event Action<UaVariableNode, DataValue>? ValueChanged;

    /// <summary>The current value with status and timestamps.</summary>
    public DataValue Value => Getter?.Invoke() ?? Volatile.Read(ref _value);

    /// <summary>AccessLevel attribute: CurrentRead (1) | CurrentWrite (2).</summary>
    public byte AccessLevel => (byte)(Writable ? 3 : 1);

    /// <summary>Sets the value (source timestamp defaults to now) and notifies monitored items.</summary>
    public void SetValue(Variant value, StatusCode status = default, DateTime? sourceTimestamp = null)
    {
        var now = DateTime.UtcNow;
        SetValue(new DataValue(value, status, sourceTimestamp ?? now, now));
    }

    /// <summary>Sets the whole DataValue and notifies monitored items.</summary>
    public void SetValue(DataValue value)
    {
        Volatile.Write(ref _value, value);
        ValueChanged?.Invoke(this, value);
    }
}

/// <summary>
/// The nodes a <see cref="UaServer"/> exposes: the standard skeleton (Root, Objects, Types, Views, the Server
/// object with NamespaceArray and ServerStatus) plus whatever the application adds. Thread-safe.
/// </summary>
public sealed class UaAddressSpace
{
    // Reference type hierarchy of namespace 0 (OPC 10000-5 §11): subtype -> supertype.
    private static readonly Dictionary<NodeId, NodeId> ReferenceSupertypes = new()
    {
        [WellKnownNodes.HierarchicalReferences] = WellKnownNodes.References,
        [WellKnownNodes.NonHierarchicalReferences] = WellKnownNodes.References,
        [WellKnownNodes.HasChild] = WellKnownNodes.HierarchicalReferences,
        [WellKnownNodes.Organizes] = WellKnownNodes.HierarchicalReferences,
        [new NodeId(0, 36u)] = WellKnownNodes.HierarchicalReferences, // HasEventSource
        [new NodeId(0, 48u)] = new NodeId(0, 36u), // HasNotifier
        [WellKnownNodes.Aggregates] = WellKnownNodes.HasChild,
        [new NodeId(0, 45u)] = WellKnownNodes.HasChild, // HasSubtype
        [WellKnownNodes.HasComponent] = WellKnownNodes.Aggregates,
        [WellKnownNodes.HasProperty] = WellKnownNodes.Aggregates,
        [WellKnownNodes.HasTypeDefinition] = WellKnownNodes.NonHierarchicalReferences,
        [new NodeId(0, 37u)] = WellKnownNodes.NonHierarchicalReferences, // HasModellingRule
        [new NodeId(0, 38u)] = WellKnownNodes.NonHierarchicalReferences, // HasEncoding
    };

    private readonly ConcurrentDictionary<NodeId, UaNode> _nodes = new();
    private readonly List<string> _namespaces;
    private readonly DateTime _startTime = DateTime.UtcNow;

    /// <summary>Creates the standard skeleton; namespace 1 is <paramref name="applicationUri"/>.</summary>
    public UaAddressSpace(string applicationUri = "urn:edgecollector:opcua-server")
    {
        _namespaces = [UaUris.OpcUaNamespace, applicationUri];
        var root = Add(new UaObjectNode(WellKnownNodes.RootFolder, new QualifiedName(0, "Root")));
        AddReference(root.NodeId, WellKnownNodes.HasTypeDefinition, WellKnownNodes.FolderType);
        foreach (var (id, name) in new[] { (WellKnownNodes.ObjectsFolder, "Objects"), (WellKnownNodes.TypesFolder, "Types"), (WellKnownNodes.ViewsFolder, "Views") })
            AddObject(id, new QualifiedName(0, name), WellKnownNodes.RootFolder, WellKnownNodes.Organizes, WellKnownNodes.FolderType);
        var server = AddObject(WellKnownNodes.Server, new QualifiedName(0, "Server"), WellKnownNodes.ObjectsFolder, WellKnownNodes.Organizes, WellKnownNodes.ServerType);
        AddProperty(WellKnownNodes.NamespaceArray, new QualifiedName(0, "NamespaceArray"), server.NodeId, WellKnownNodes.StringType,
            () => new DataValue(new Variant(BuiltInType.String, NamespaceArray.ToArray()), default, _startTime, DateTime.UtcNow), valueRank: 1);
        AddProperty(WellKnownNodes.ServerArray, new QualifiedName(0, "ServerArray"), server.NodeId, WellKnownNodes.StringType,
            () => new DataValue(new Variant(BuiltInType.String, new[] { applicationUri }), default, _startTime, DateTime.UtcNow), valueRank: 1);
        var status = Add(new UaVariableNode(WellKnownNodes.ServerStatus, new QualifiedName(0, "ServerStatus"), WellKnownNodes.ServerStatusDataType, Variant.Null)
        {
            Getter = () => Now(new Variant(new ExtensionObject(new ServerStatusDataType
            {
                StartTime = _startTime,
                CurrentTime = DateTime.UtcNow,
                State = ServerState.Running,
                BuildInfo = new BuildInfo { ProductUri = "urn:edgecollector", ManufacturerName = "EdgeCollector", ProductName = "EdgeCollector OPC UA server", SoftwareVersion = "1.0", BuildNumber = "1", BuildDate = _startTime },
            }))),
        });
        AddReference(server.NodeId, WellKnownNodes.HasComponent, status.NodeId);
        AddReference(status.NodeId, WellKnownNodes.HasTypeDefinition, WellKnownNodes.ServerStatusType);
        AddVariable(WellKnownNodes.ServerStatusStartTime, new QualifiedName(0, "StartTime"), status.NodeId, WellKnownNodes.DateTimeType, () => Now(new Variant(_startTime)));
        AddVariable(WellKnownNodes.ServerStatusCurrentTime, new QualifiedName(0, "CurrentTime"), status.NodeId, WellKnownNodes.DateTimeType, () => Now(new Variant(DateTime.UtcNow)));
        AddVariable(WellKnownNodes.ServerStatusState, new QualifiedName(0, "State"), status.NodeId, new NodeId(0, 852u), () => Now(new Variant((int)ServerState.Running)));
        AddProperty(WellKnownNodes.ServiceLevel, new QualifiedName(0, "ServiceLevel"), server.NodeId, new NodeId(0, 3u), () => Now(new Variant(BuiltInType.Byte, (byte)255)));
    }

    private static DataValue Now(Variant value)
    {
        var now = DateTime.UtcNow;
        return new DataValue(value, default, now, now);
    }

    /// <summary>The NamespaceArray (index 0 is the OPC UA namespace, 1 the server's own).</summary>
    public IReadOnlyList<string> NamespaceArray
    {
        get
        {
            lock (_namespaces)
                return _namespaces.ToArray();
        }
    }

    /// <summary>Registers a namespace URI (or returns its index if known).</summary>
    public ushort RegisterNamespace(string uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        lock (_namespaces)
        {
            var index = _namespaces.IndexOf(uri);
            if (index >= 0)
                return (ushort)index;
            _namespaces.Add(uri);
            return (ushort)(_namespaces.Count - 1);
        }
    }

    /// <summary>Looks a node up.</summary>
    public bool TryGetNode(NodeId nodeId, out UaNode? node) => _nodes.TryGetValue(nodeId, out node);

    /// <summary>Number of nodes.</summary>
    public int Count => _nodes.Count;

    /// <summary>Adds a node; the id must be new.</summary>
    public T Add<T>(T node)
        where T : UaNode
    {
        ArgumentNullException.ThrowIfNull(node);
        if (!_nodes.TryAdd(node.NodeId, node))
            throw new ArgumentException($"Node {node.NodeId} already exists", nameof(node));
        return node;
    }

    /// <summary>Adds a reference and its inverse.</summary>
    public void AddReference(NodeId source, NodeId referenceType, NodeId target)
    {
        if (_nodes.TryGetValue(source, out var s))
            s.AddReference(new UaReference(referenceType, true, target));
        if (_nodes.TryGetValue(target, out var t))
            t.AddReference(new UaReference(referenceType, false, source));
    }

    /// <summary>Adds an object (a folder by default) below <paramref name="parent"/>.</summary>
    public UaObjectNode AddObject(NodeId nodeId, QualifiedName browseName, NodeId parent, NodeId? referenceType = null, NodeId? typeDefinition = null)
    {
        var node = Add(new UaObjectNode(nodeId, browseName));
        AddReference(parent, referenceType ?? WellKnownNodes.Organizes, nodeId);
        AddReference(nodeId, WellKnownNodes.HasTypeDefinition, typeDefinition ?? WellKnownNodes.FolderType);
        return node;
    }

    /// <summary>Adds a variable (HasComponent from <paramref name="parent"/>, BaseDataVariableType).</summary>
    public UaVariableNode AddVariable(NodeId nodeId, QualifiedName browseName, NodeId parent, Variant initial, NodeId dataType, bool writable = false,
        (double Low, double High)? euRange = null)
    {
        var node = Add(new UaVariableNode(nodeId, browseName, dataType, initial) { Writable = writable, EuRange = euRange });
        AddReference(parent, WellKnownNodes.HasComponent, nodeId);
        AddReference(nodeId, WellKnownNodes.HasTypeDefinition, WellKnownNodes.BaseDataVariableType);
        return node;
    }

    private void AddVariable(NodeId nodeId, QualifiedName browseName, NodeId parent, NodeId dataType, Func<DataValue> getter)
    {
        Add(new UaVariableNode(nodeId, browseName, dataType, Variant.Null) { Getter = getter });
        AddReference(parent, WellKnownNodes.HasComponent, nodeId);
        AddReference(nodeId, WellKnownNodes.HasTypeDefinition, WellKnownNodes.BaseDataVariableType);
    }

    private void AddProperty(NodeId nodeId, QualifiedName browseName, NodeId parent, NodeId dataType, Func<DataValue> getter, int valueRank = -1)
    {
        Add(new UaVariableNode(nodeId, browseName, dataType, Variant.Null) { Getter = getter, ValueRank = valueRank });
        AddReference(parent, WellKnownNodes.HasProperty, nodeId);
        AddReference(nodeId, WellKnownNodes.HasTypeDefinition, WellKnownNodes.PropertyType);
    }

    /// <summary>True when <paramref name="referenceType"/> is <paramref name="baseType"/> or (optionally) one of its subtypes.</summary>
    public static bool IsReferenceOf(NodeId referenceType, NodeId baseType, bool includeSubtypes)
    {
        if (referenceType == baseType)
            return true;
        if (!includeSubtypes)
            return false;
        var current = referenceType;
        for (var i = 0; i < 16 && ReferenceSupertypes.TryGetValue(current, out var parent); i++)
        {
            if (parent == baseType)
                return true;
            current = parent;
        }

        return false;
    }
}
