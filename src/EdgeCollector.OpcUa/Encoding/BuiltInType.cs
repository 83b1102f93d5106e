namespace EdgeCollector.OpcUa.Encoding;

/// <summary>The built-in data types of OPC 10000-6 §5.1.2; the value is the wire id used in Variant masks.</summary>
public enum BuiltInType : byte
{
    Null = 0,
    Boolean = 1,
    SByte = 2,
    Byte = 3,
    Int16 = 4,
    UInt16 = 5,
    Int32 = 6,
    UInt32 = 7,
    Int64 = 8,
    UInt64 = 9,
    Float = 10,
    Double = 11,
    String = 12,
    DateTime = 13,
    Guid = 14,
    ByteString = 15,
    XmlElement = 16,
    NodeId = 17,
    ExpandedNodeId = 18,
    StatusCode = 19,
    QualifiedName = 20,
    LocalizedText = 21,
    ExtensionObject = 22,
    DataValue = 23,
    Variant = 24,
    DiagnosticInfo = 25,
}

/// <summary>An XmlElement value (built-in type 16), kept as its UTF-8 text.</summary>
/// <param name="Xml">The XML fragment, or null.</param>
public readonly record struct UaXmlElement(string? Xml);
