export { CliUsageError, dateOption, formatUsage, numberOption, parseCli, startCli, useLocalDevEnvironment } from './cli-args';
export type { BooleanOption, CliIo, CliOption, CliOptions, CliSpec, CliValues, ParsedCli, StringOption } from './cli-args';
