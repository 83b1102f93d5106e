using EdgeCollector.OpcUa.Encoding;

namespace EdgeCollector.OpcUa.Tests.Encoding;

public sealed class NodeIdTextTests
{
    [Theory]
    [InlineData("i=85", 0, IdType.Numeric, "85")]
    [InlineData("ns=2;s=F1.GasTotal", 2, IdType.String, "F1.GasTotal")]
    [InlineData("ns=3;s=\"DB_F1\".\"GasTotal\"", 3, IdType.String, "\"DB_F1\".\"GasTotal\"")]
    [InlineData("ns=2;s=a;b=c", 2, IdType.String, "a;b=c")]
    [InlineData("ns=1;g=72962b91-fa75-4ae6-8d28-b404dc7daf63", 1, IdType.Guid, "72962b91-fa75-4ae6-8d28-b404dc7daf63")]
    [InlineData("ns=4;b=AQID", 4, IdType.Opaque, "AQID")]
    public void Parses_text_forms(string text, int ns, IdType type, string identifier)
    {
        var id = NodeId.Parse(text);
        Assert.Equal(ns, id.NamespaceIndex);
        Assert.Equal(type, id.IdType);
        var actual = id.Identifier switch
        {
            byte[] b => Convert.ToBase64String(b),
            Guid g => g.ToString(),
            var o => Convert.ToString(o, System.Globalization.CultureInfo.InvariantCulture),
        };
        Assert.Equal(identifier, actual);
        Assert.Equal(id, NodeId.Parse(id.ToString()));
    }

    [Theory]
    [InlineData("")]
    [InlineData("ns=2")]
    [InlineData("ns=x;i=1")]
    [InlineData("i=abc")]
    [InlineData("i=-1")]
    [InlineData("q=1")]
    [InlineData("g=not-a-guid")]
    [InlineData("b=***")]
    [InlineData("ns=70000;i=1")]
    public void Rejects_malformed_text(string text)
    {
        Assert.Throws<FormatException>(() => NodeId.Parse(text));
        Assert.False(NodeId.TryParse(text, out _));
    }

    [Fact]
    public void Nsu_is_resolved_through_the_namespace_array()
    {
        var expanded = ExpandedNodeId.Parse("nsu=http://www.siemens.com/simatic-s7-opcua;s=\"DB_F1\".\"GasTotal\"");
        Assert.Equal("http://www.siemens.com/simatic-s7-opcua", expanded.NamespaceUri);
        string[] namespaces = ["http://opcfoundation.org/UA/", "urn:server", "urn:other", "http://www.siemens.com/simatic-s7-opcua"];
        var id = expanded.Resolve(namespaces);
        Assert.Equal(new NodeId(3, "\"DB_F1\".\"GasTotal\""), id);
        var missing = Assert.Throws<UaException>(() => expanded.Resolve(namespaces[..3]));
        Assert.Equal(StatusCodes.BadNodeIdUnknown, missing.Status);
        Assert.Throws<FormatException>(() => NodeId.Parse("nsu=urn:x;i=1"));
        Assert.Equal("nsu=urn:x;i=1", ExpandedNodeId.Parse("nsu=urn:x;i=1").ToString());
        Assert.Equal(new NodeId(2, 5u), ExpandedNodeId.Parse("svr=1;nsu=urn:x;i=5").Resolve(["a", "b", "urn:x"]));
    }
}
