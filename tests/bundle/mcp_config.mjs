// Prints the MCP server configuration Claude Desktop would run for an unpacked bundle, computed by the mcpb
// package's own getMcpConfigForManifest (variable and user_config substitution, platform overrides).
// usage: node mcp_config.mjs MCPB_CONFIG_JS UNPACKED_DIR USER_CONFIG_JSON
import { readFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [configModule, extensionPath, userConfig] = process.argv.slice(2);
const { getMcpConfigForManifest } = await import(pathToFileURL(configModule).href);
const manifest = JSON.parse(readFileSync(path.join(extensionPath, "manifest.json"), "utf8"));
const config = await getMcpConfigForManifest({
  manifest,
  extensionPath,
  systemDirs: {},
  userConfig: JSON.parse(userConfig),
  pathSeparator: path.sep,
});
process.stdout.write(JSON.stringify(config));
