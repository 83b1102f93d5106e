using System.CommandLine;
using EdgeCollector.Core.Configuration;
using EdgeCollector.Core.Engine;

namespace EdgeCollector.Cli;

/// <summary>
/// <c>edgecollector demo</c>: the main job of the README for now — the engine run over the shipped
/// recording of a realistic 8-hour shift (two furnaces, a site auxiliary meter), printing heat and
/// shift KPIs. Later issues turn it into the live simulated plant with the dashboard.
/// </summary>
public static class DemoCommand
{
    public static Command Build()
    {
        var command = new Command("demo", "Replay the shipped sample shift with the embedded demo config and print its heat, shift and day KPIs.");
        CommandLine.AddConfigOptions(command);
        var outOption = new Option<string?>("--out") { Description = "Also write every published message here (JSON lines)." };
        command.Options.Add(outOption);
        command.SetAction(async (parse, ct) =>
        {
            var config = CommandLine.LoadConfig(parse, Console.Error);
            if (config is null)
            {
                return ExitCodes.BadInput;
            }

            var recording = config.Sources.FirstOrDefault(s => s.Type == SourceType.Recording);
            if (recording?.Path is not { } path)
            {
                await Console.Error.WriteLineAsync("demo: the config has no Recording source to replay");
                return ExitCodes.BadInput;
            }

            Console.WriteLine($"EdgeCollector demo: site '{config.Site.Id}' ({config.Site.TimeZone}), recording {path}");
            string output = parse.GetValue(outOption) ?? Path.Combine(config.Storage.DataDir, "demo-messages.jsonl");
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
            int code = await ReplayCommand.RunAsync(new PlantModel(config), path, output, summary: true, ct);
            if (code == ExitCodes.Ok)
            {
                Console.WriteLine();
                Console.WriteLine($"Every message (minute, heat, shift, day KPIs and tickets, contracts.md §2 payloads): {output}");
            }

            return code;
        });
        return command;
    }
}
