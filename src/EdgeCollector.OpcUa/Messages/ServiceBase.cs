using EdgeCollector.OpcUa.Encoding;

namespace EdgeCollector.OpcUa.Messages;

/// <summary>A service request: the RequestHeader then the body (OPC 10000-4 §7.32).</summary>
public abstract class UaRequest : IUaEncodeable
{
    /// <summary>The common request parameters.</summary>
    public RequestHeader RequestHeader { get; set; } = new();

    /// <inheritdoc />
    public abstract NodeId BinaryEncodingId { get; }

    /// <inheritdoc />
    public void Encode(UaBinaryWriter writer)
    {
        RequestHeader.Encode(writer);
        EncodeBody(writer);
    }

    /// <inheritdoc />
    public void Decode(ref UaBinaryReader reader)
    {
        RequestHeader = reader.ReadEncodeable<RequestHeader>();
        DecodeBody(ref reader);
    }

    /// <summary>Writes the fields after the header.</summary>
    protected abstract void EncodeBody(UaBinaryWriter writer);

    /// <summary>Reads the fields after the header.</summary>
    protected abstract void DecodeBody(ref UaBinaryReader reader);
}

/// <summary>A service response: the ResponseHeader then the body (OPC 10000-4 §7.33).</summary>
public abstract class UaResponse : IUaEncodeable
{
    /// <summary>The common response parameters.</summary>
    public ResponseHeader ResponseHeader { get; set; } = new();

    /// <inheritdoc />
    public abstract NodeId BinaryEncodingId { get; }

    /// <inheritdoc />
    public void Encode(UaBinaryWriter writer)
    {
        ResponseHeader.Encode(writer);
        EncodeBody(writer);
    }

    /// <inheritdoc />
    public void Decode(ref UaBinaryReader reader)
    {
        ResponseHeader = reader.ReadEncodeable<ResponseHeader>();
        DecodeBody(ref reader);
    }

    /// <summary>Writes the fields after the header.</summary>
    protected abstract void EncodeBody(UaBinaryWriter writer);

    /// <summary>Reads the fields after the header.</summary>
    protected abstract void DecodeBody(ref UaBinaryReader reader);
}

/// <summary>MessageSecurityMode (OPC 10000-4 §7.20).</summary>
public enum MessageSecurityMode
{
    Invalid = 0,
    None = 1,
    Sign = 2,
    SignAndEncrypt = 3,
}

/// <summary>SecurityTokenRequestType (OPC 10000-4 §5.5.2.2).</summary>
public enum SecurityTokenRequestType
{
    Issue = 0,
    Renew = 1,
}

/// <summary>ApplicationType (OPC 10000-4 §7.2).</summary>
public enum ApplicationType
{
    Server = 0,
    Client = 1,
    ClientAndServer = 2,
    DiscoveryServer = 3,
}

/// <summary>UserTokenType (OPC 10000-4 §7.42).</summary>
public enum UserTokenType
{
    Anonymous = 0,
    UserName = 1,
    Certificate = 2,
    IssuedToken = 3,
}

/// <summary>TimestampsToReturn (OPC 10000-4 §7.40).</summary>
public enum TimestampsToReturn
{
    Source = 0,
    Server = 1,
    Both = 2,
    Neither = 3,
    Invalid = 4,
}

/// <summary>BrowseDirection (OPC 10000-4 §7.5).</summary>
public enum BrowseDirection
{
    Forward = 0,
    Inverse = 1,
    Both = 2,
    Invalid = 3,
}

/// <summary>NodeClass (OPC 10000-3 §8.29); values are mask bits.</summary>
public enum NodeClass
{
    Unspecified = 0,
    Object = 1,
    Variable = 2,
    Method = 4,
    ObjectType = 8,
    VariableType = 16,
    ReferenceType = 32,
    DataType = 64,
    View = 128,
}

/// <summary>MonitoringMode (OPC 10000-4 §7.23).</summary>
public enum MonitoringMode
{
    Disabled = 0,
    Sampling = 1,
    Reporting = 2,
}

/// <summary>DataChangeTrigger (OPC 10000-4 §7.22.2).</summary>
public enum DataChangeTrigger
{
    Status = 0,
    StatusValue = 1,
    StatusValueTimestamp = 2,
}

/// <summary>DeadbandType values of DataChangeFilter (OPC 10000-4 §7.22.2).</summary>
public enum DeadbandType : uint
{
    None = 0,
    Absolute = 1,
    Percent = 2,
}

/// <summary>ServerState (OPC 10000-5 §12.6).</summary>
public enum ServerState
{
    Running = 0,
    Failed = 1,
    NoConfiguration = 2,
    Suspended = 3,
    Shutdown = 4,
    Test = 5,
    CommunicationFault = 6,
    Unknown = 7,
}

/// <summary>Attribute ids (OPC 10000-6 §A.1).</summary>
public static class Attributes
{
    public const uint NodeId = 1;
    public const uint NodeClass = 2;
    public const uint BrowseName = 3;
    public const uint DisplayName = 4;
    public const uint Description = 5;
    public const uint WriteMask = 6;
    public const uint UserWriteMask = 7;
    public const uint IsAbstract = 8;
    public const uint Symmetric = 9;
    public const uint InverseName = 10;
    public const uint ContainsNoLoops = 11;
    public const uint EventNotifier = 12;
    public const uint Value = 13;
    public const uint DataType = 14;
    public const uint ValueRank = 15;
    public const uint ArrayDimensions = 16;
    public const uint AccessLevel = 17;
    public const uint UserAccessLevel = 18;
    public const uint MinimumSamplingInterval = 19;
    public const uint Historizing = 20;
    public const uint Executable = 21;
    public const uint UserExecutable = 22;
}

/// <summary>Well-known namespace-0 node ids used by this stack (OPC 10000-6 Annex A, NodeIds.csv).</summary>
public static class WellKnownNodes
{
    public static readonly NodeId RootFolder = new(0, 84u);
    public static readonly NodeId ObjectsFolder = new(0, 85u);
    public static readonly NodeId TypesFolder = new(0, 86u);
    public static readonly NodeId ViewsFolder = new(0, 87u);
    public static readonly NodeId FolderType = new(0, 61u);
    public static readonly NodeId BaseObjectType = new(0, 58u);
    public static readonly NodeId BaseDataVariableType = new(0, 63u);
    public static readonly NodeId PropertyType = new(0, 68u);
    public static readonly NodeId ServerType = new(0, 2004u);
    public static readonly NodeId Server = new(0, 2253u);
    public static readonly NodeId ServerArray = new(0, 2254u);
    public static readonly NodeId NamespaceArray = new(0, 2255u);
    public static readonly NodeId ServerStatus = new(0, 2256u);
    public static readonly NodeId ServerStatusStartTime = new(0, 2257u);
    public static readonly NodeId ServerStatusCurrentTime = new(0, 2258u);
    public static readonly NodeId ServerStatusState = new(0, 2259u);
    public static readonly NodeId ServiceLevel = new(0, 2267u);
    public static readonly NodeId References = new(0, 31u);
    public static readonly NodeId NonHierarchicalReferences = new(0, 32u);
    public static readonly NodeId HierarchicalReferences = new(0, 33u);
    public static readonly NodeId HasChild = new(0, 34u);
    public static readonly NodeId Organizes = new(0, 35u);
    public static readonly NodeId HasTypeDefinition = new(0, 40u);
    public static readonly NodeId Aggregates = new(0, 44u);
    public static readonly NodeId HasProperty = new(0, 46u);
    public static readonly NodeId HasComponent = new(0, 47u);
    public static readonly NodeId BooleanType = new(0, 1u);
    public static readonly NodeId Int32Type = new(0, 6u);
    public static readonly NodeId UInt32Type = new(0, 7u);
    public static readonly NodeId DoubleType = new(0, 11u);
    public static readonly NodeId StringType = new(0, 12u);
    public static readonly NodeId DateTimeType = new(0, 13u);
    public static readonly NodeId BaseDataType = new(0, 24u);
    public static readonly NodeId ServerStatusDataType = new(0, 862u);
    public static readonly NodeId ServerStateType = new(0, 852u);
    public static readonly NodeId ServerStatusType = new(0, 2138u);
}

/// <summary>Well-known URIs.</summary>
public static class UaUris
{
    /// <summary>The OPC UA namespace (index 0 on every server).</summary>
    public const string OpcUaNamespace = "http://opcfoundation.org/UA/";

    /// <summary>SecurityPolicy None (OPC 10000-7).</summary>
    public const string SecurityPolicyNone = "http://opcfoundation.org/UA/SecurityPolicy#None";

    /// <summary>The UA TCP binary transport profile.</summary>
    public const string UaTcpTransport = "http://opcfoundation.org/UA-Profile/Transport/uatcp-uasc-uabinary";
}
