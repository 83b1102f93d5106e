using System.Buffers;
using System.Diagnostics;
using EdgeCollector.OpcUa.Encoding;
using EdgeCollector.OpcUa.Messages;
using EdgeCollector.OpcUa.Transport;

namespace EdgeCollector.OpcUa.Tests.Encoding;

/// <summary>
/// Random and mutated input must only ever produce a result or a <see cref="UaDecodingException"/>:
/// no other exception, no hang, no huge allocation.
/// </summary>
public sealed class FuzzTests
{
    private static byte[] Encode(IUaEncodeable message)
    {
        var buffer = new ArrayBufferWriter<byte>();
        new UaBinaryWriter(buffer).WriteMessage(message);
        return buffer.WrittenSpan.ToArray();
    }

    private static List<byte[]> Seeds()
    {
        var ts = new DateTime(2026, 11, 21, 8, 0, 0, DateTimeKind.Utc);
        var seeds = new List<byte[]>
        {
            Encode(new ReadResponse
            {
                ResponseHeader = new ResponseHeader { Timestamp = ts, RequestHandle = 3, StringTable = ["x", null!] },
                Results =
                [
                    new DataValue(new Variant(1.5), default, ts, ts),
                    new DataValue(new Variant(BuiltInType.Variant, new[] { new Variant("a"), new Variant(new NodeId(2, "b")) })),
                    new DataValue(new Variant(BuiltInType.Int32, new[] { 1, 2, 3, 4 }, [2, 2]), StatusCodes.UncertainSubNormal),
                    new DataValue(new Variant(new LocalizedText("en", "t"))),
                    new DataValue(new Variant(new ExtensionObject(new DataChangeFilter { DeadbandType = 1, DeadbandValue = 2 }))),
                ],
                DiagnosticInfos = [new DiagnosticInfo { AdditionalInfo = "d", InnerDiagnosticInfo = new DiagnosticInfo { SymbolicId = 1 } }],
            }),
            Encode(new PublishResponse
            {
                SubscriptionId = 1,
                AvailableSequenceNumbers = [1, 2],
                NotificationMessage = new NotificationMessage
                {
                    SequenceNumber = 2,
                    PublishTime = ts,
                    NotificationData =
                    [
                        new ExtensionObject(new DataChangeNotification
                        {
                            MonitoredItems = [new MonitoredItemNotification { ClientHandle = 1, Value = new DataValue(new Variant(3u), default, ts) }],
                        }),
                        new ExtensionObject(new StatusChangeNotification { Status = StatusCodes.BadTimeout }),
                    ],
                },
            }),
            Encode(new CreateSessionResponse
            {
                SessionId = new NodeId(1, Guid.NewGuid()),
                AuthenticationToken = new NodeId(0, new byte[] { 1, 2, 3 }),
                ServerEndpoints =
                [
                    new EndpointDescription
                    {
                        EndpointUrl = "opc.tcp://x",
                        Server = new ApplicationDescription { ApplicationName = "s", DiscoveryUrls = ["opc.tcp://x"] },
                        SecurityPolicyUri = UaUris.SecurityPolicyNone,
                        UserIdentityTokens = [new UserTokenPolicy { PolicyId = "anonymous" }],
                    },
                ],
                ServerSignature = new SignatureData(),
            }),
            Encode(new BrowseResponse
            {
                Results =
                [
                    new BrowseResult
                    {
                        ContinuationPoint = [1, 2],
                        References =
                        [
                            new ReferenceDescription
                            {
                                ReferenceTypeId = WellKnownNodes.Organizes,
                                NodeId = new ExpandedNodeId(new NodeId(3, "F1"), "urn:x", 1),
                                BrowseName = new QualifiedName(3, "F1"),
                                DisplayName = "F1",
                                NodeClass = NodeClass.Object,
                            },
                        ],
                    },
                ],
            }),
            Encode(new ActivateSessionRequest
            {
                UserIdentityToken = new ExtensionObject(new UserNameIdentityToken { PolicyId = "u", UserName = "a", Password = [1] }),
                ClientSignature = new SignatureData(),
                UserTokenSignature = new SignatureData(),
            }),
            Encode(new CreateMonitoredItemsRequest
            {
                ItemsToCreate =
                [
                    new MonitoredItemCreateRequest
                    {
                        ItemToMonitor = new ReadValueId { NodeId = new NodeId(2, "x"), AttributeId = 13 },
                        RequestedParameters = new MonitoringParameters { Filter = new ExtensionObject(new DataChangeFilter()) },
                    },
                ],
            }),
        };
        return seeds;
    }

    private static void Decode(byte[] input, int decoder)
    {
        if (decoder != 0)
        {
            try
            {
                var reader = new UaBinaryReader(input);
                reader.ReadMessage();
            }
            catch (UaDecodingException)
            {
            }

            return;
        }

        try
        {
            var reader = new UaBinaryReader(input);
            reader.ReadVariant();
            reader.ReadDataValue();
            reader.ReadDiagnosticInfo();
            reader.ReadExpandedNodeId();
            reader.ReadExtensionObject();
        }
        catch (UaDecodingException)
        {
        }

        try
        {
            var sequence = new ReadOnlySequence<byte>(input);
            if (UaTcpFraming.TryReadChunk(ref sequence, 65535, out var chunk) && chunk!.MessageType == UaMessageType.Hello)
                UaHello.Decode(chunk.Data);
        }
        catch (UaDecodingException)
        {
        }
    }

    [Fact]
    public void Decoders_survive_a_million_random_and_mutated_messages()
    {
        var random = new Random(20261121);
        var seeds = Seeds();
        var stopwatch = Stopwatch.StartNew();
        var buffer = new byte[512];
        const int iterations = 1_000_000;
        for (var i = 0; i < iterations; i++)
        {
            byte[] input;
            switch (i % 4)
            {
                case 0:
                    // Pure random bytes, sometimes starting with a known message type id.
                    var length = random.Next(0, 64);
                    input = new byte[length];
                    random.NextBytes(input);
                    if (length > 2 && random.Next(2) == 0)
                    {
                        var seed = seeds[random.Next(seeds.Count)];
                        input[0] = seed[0];
                        input[1] = seed[1];
                        input[2] = seed[2];
                    }

                    break;
                case 1:
                    // Bit flips in a valid message.
                    input = (byte[])seeds[random.Next(seeds.Count)].Clone();
                    for (var f = random.Next(1, 4); f > 0; f--)
                        input[random.Next(input.Length)] ^= (byte)(1 << random.Next(8));
                    break;
                case 2:
                    // Truncation.
                    var s = seeds[random.Next(seeds.Count)];
                    input = s.AsSpan(0, random.Next(s.Length)).ToArray();
                    break;
                default:
                    // A plausible length field overwritten with an extreme value.
                    input = (byte[])seeds[random.Next(seeds.Count)].Clone();
                    var at = random.Next(Math.Max(1, input.Length - 4));
                    var value = random.Next(4) switch { 0 => -2, 1 => int.MaxValue, 2 => random.Next(), _ => 0x7FFF };
                    BitConverter.TryWriteBytes(input.AsSpan(at), value);
                    break;
            }

            Decode(input, i % 7);
            if (i % 100_000 == 0)
                random.NextBytes(buffer);
        }

        // Not a speed assertion: a guard against a hang (an endless loop would never get here).
        Assert.True(stopwatch.Elapsed < TimeSpan.FromMinutes(2), $"took {stopwatch.Elapsed}");
    }

    [Fact]
    public void Seeds_are_valid_messages()
    {
        foreach (var seed in Seeds())
        {
            var reader = new UaBinaryReader(seed);
            var message = reader.ReadMessage();
            Assert.Equal(0, reader.Remaining);
            Assert.Equal(seed, Encode(message));
        }
    }
}
