using System.CommandLine;
using EdgeCollector.Core.Engine;

namespace EdgeCollector.Cli;

/// <summary><c>edgecollector replay</c> (contracts.md §3): recompute KPIs from a recording, as fast as it can.</summary>
public static class ReplayCommand
{
    public static readonly Option<string> InOption = new("--in") { Description = "Recording to replay (JSON lines).", Required = true };
    public static readonly Option<string?> OutOption = new("--out") { Description = "Where to write the published messages, one JSON line each. Omitted: standard output." };
    public static readonly Option<bool> SummaryOption = new("--summary") { Description = "Also print the heat and shift KPIs as a table (to standard error when messages go to standard output)." };

    public static Command Build()
    {
        var command = new Command("replay", "Run the engine on a recording and write every message it would publish; a malformed or out-of-order line stops it with exit code 2 and no output file.");
        CommandLine.AddConfigOptions(command);
        command.Options.Add(InOption);
        command.Options.Add(OutOption);
        command.Options.Add(SummaryOption);
        command.SetAction(async (parse, ct) =>
        {
            var config = CommandLine.LoadConfig(parse, Console.Error);
            if (config is null)
            {
                return ExitCodes.BadInput;
            }

            string input = parse.GetValue(InOption)!;
            string? output = parse.GetValue(OutOption);
            return await RunAsync(new PlantModel(config), input, output, parse.GetValue(SummaryOption), ct);
        });
        return command;
    }

    public static async Task<int> RunAsync(PlantModel model, string input, string? output, bool summary, CancellationToken ct)
    {
        if (!File.Exists(input))
        {
            await Console.Error.WriteLineAsync($"--in: no such file '{input}'");
            return ExitCodes.BadInput;
        }

        List<OutgoingMessage> messages;
        try
        {
            messages = Replayer.Run(model, File.ReadLines(input), message => Console.Error.WriteLine($"replay: {message}"));
        }
        catch (ReplayException ex)
        {
            await Console.Error.WriteLineAsync($"{input}: {ex.Message}");
            return ExitCodes.BadInput;
        }

        if (output is null)
        {
            await using var stdout = Console.OpenStandardOutput();
            await WriteAsync(stdout, messages, ct);
        }
        else
        {
            // Written beside the target and moved into place, so a failed replay leaves no output file.
            string temp = output + ".partial";
            await using (var file = File.Create(temp))
            {
                await WriteAsync(file, messages, ct);
            }

            File.Move(temp, output, overwrite: true);
        }

        if (summary)
        {
            KpiTable.Print(output is null ? Console.Error : Console.Out, messages);
        }

        return ExitCodes.Ok;
    }

    private static async Task WriteAsync(Stream stream, List<OutgoingMessage> messages, CancellationToken ct)
    {
        foreach (var m in messages)
        {
            await stream.WriteAsync(RecordCodec.OutputLine(m), ct);
            stream.WriteByte((byte)'\n');
        }
    }
}
