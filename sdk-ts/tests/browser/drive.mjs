// Opens the page in headless Chromium, prints what it tracked as JSON, then leaves the page so
// that the tracker's page-hide delivery sends what is still queued.
//   node drive.mjs <chromium> <page url>
import { chromium } from "playwright-core";

const [executablePath, url] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath,
  headless: true,
  // the gateway does not answer CORS preflights yet: this test page may call it cross-origin
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
try {
  const page = await browser.newPage();
  page.on("console", (message) => process.stderr.write(`page: ${message.text()}\n`));
  await page.goto(url);
  await page.waitForFunction(() => window.accordResult !== undefined, null, { timeout: 60000 });
  const result = await page.evaluate(() => window.accordResult);
  await page.goto("about:blank");
  // the keepalive request outlives the page; give it time to reach the gateway
  await new Promise((resolve) => setTimeout(resolve, 2000));
  process.stdout.write(JSON.stringify(result) + "\n");
} finally {
  await browser.close();
}
