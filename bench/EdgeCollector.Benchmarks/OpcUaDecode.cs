using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using EdgeCollector.OpcUa.Encoding;
using EdgeCollector.OpcUa.Messages;

namespace EdgeCollector.Benchmarks;

/// <summary>
/// <c>-- opcua-decode [items=1000] [seconds=5]</c>: decodes one PublishResponse carrying a DataChangeNotification of
/// &lt;items&gt; Double values with source and server timestamps (as the node-opcua server of bench/opcua.sh sends
/// them) over and over, reading the values as UaClient's struct path does (<see cref="DataChangeNotification.Values"/>),
/// and prints the time and the bytes allocated per value.
/// </summary>
internal static class OpcUaDecode
{
    public static byte[] BuildPublishResponse(int items)
    {
        var now = new DateTime(2026, 11, 21, 16, 0, 0, DateTimeKind.Utc);
        var notifications = new MonitoredItemNotification[items];
        for (var i = 0; i < items; i++)
        {
            notifications[i] = new MonitoredItemNotification
            {
                ClientHandle = (uint)(i + 1),
                Value = new DataValue(new Variant(i + 0.5), default, now, now.AddMilliseconds(1)),
            };
        }

        var response = new PublishResponse
        {
            SubscriptionId = 7,
            AvailableSequenceNumbers = [41, 42],
            NotificationMessage = new NotificationMessage
            {
                SequenceNumber = 42,
                PublishTime = now,
                NotificationData = [new ExtensionObject(new DataChangeNotification { MonitoredItems = notifications })],
            },
        };
        var buffer = new ArrayBufferWriter<byte>();
        new UaBinaryWriter(buffer).WriteMessage(response);
        return buffer.WrittenSpan.ToArray();
    }

    public static int Run(int items, double seconds)
    {
        var body = BuildPublishResponse(items);
        double sum = 0;
        long iterations = 0;
        void Once()
        {
            var reader = new UaBinaryReader(body);
            var response = (PublishResponse)reader.ReadMessage();
            foreach (var data in response.NotificationMessage.NotificationData!)
            {
                var change = (DataChangeNotification)data!.Body!;
                foreach (ref readonly var n in change.Values)
                {
                    if (n.Value.TryGetDouble(out var d))
                        sum += d;
                }

                change.ReleaseValues();
            }
        }

        var warm = Stopwatch.StartNew();
        while (warm.Elapsed.TotalSeconds < Math.Min(2, seconds / 2))
            Once();
        var allocated0 = GC.GetAllocatedBytesForCurrentThread();
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed.TotalSeconds < seconds)
        {
            Once();
            iterations++;
        }

        sw.Stop();
        var allocated = GC.GetAllocatedBytesForCurrentThread() - allocated0;
        var values = iterations * items;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"opcua-decode: {items} items/notification, {body.Length} bytes; {sw.Elapsed.TotalNanoseconds / values:F1} ns/value, {(double)allocated / values:F1} B allocated/value ({iterations} notifications, checksum {sum:E3})"));
        return 0;
    }
}
