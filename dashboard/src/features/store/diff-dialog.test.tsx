import { getDefaultNormalizer, render, screen } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { renderWithClient, stubApi } from "@/test-support";
import { DiffView, RevisionDiff } from "./diff-dialog";

const ID = "01936f3e-8b7a-7c2d-9e4f-0123456789ab";
const diff = [
  "--- revision 1",
  "+++ revision 2",
  "@@ -10,4 +10,4 @@",
  " kind: ResourceQuota",
  " spec:",
  "-  limits.cpu: '2'",
  "+  limits.cpu: '4'",
  "+  limits.memory: 4Gi",
  "",
].join("\n");

describe("a revision diff", () => {
  beforeEach(() => vi.unstubAllGlobals());

  it("colours added lines green and removed ones red, and counts them", () => {
    render(<DiffView diff={diff} />);
    const lines = [...screen.getByTestId("diff").querySelectorAll("[data-line]")];
    expect(lines.map((l) => [l.getAttribute("data-line"), l.textContent])).toEqual([
      ["header", "--- revision 1"],
      ["header", "+++ revision 2"],
      ["hunk", "@@ -10,4 +10,4 @@"],
      ["context", " kind: ResourceQuota"],
      ["context", " spec:"],
      ["del", "-  limits.cpu: '2'"],
      ["add", "+  limits.cpu: '4'"],
      ["add", "+  limits.memory: 4Gi"],
    ]);
    expect(lines[5]).toHaveClass("text-destructive");
    expect(lines[6]).toHaveClass("text-success");
    expect(lines[3]).not.toHaveClass("text-success", "text-destructive");
    expect(screen.getByTestId("diff-summary")).toHaveTextContent("2 lines added, 1 removed");
  });

  it("asks the API for the two revisions and shows its diff", async () => {
    const calls = stubApi({ [`GET /api/v1/stores/${ID}/revisions/1/diff/2`]: { body: { from: 1, to: 2, identical: false, diff } } });
    renderWithClient(<RevisionDiff storeId={ID} from={1} to={2} />);
    expect(await screen.findByText("+  limits.memory: 4Gi", { normalizer: getDefaultNormalizer({ collapseWhitespace: false }) })).toHaveAttribute("data-line", "add");
    expect(calls.map((c) => c.path)).toEqual([`/api/v1/stores/${ID}/revisions/1/diff/2`]);
  });

  it("says when two revisions are identical", async () => {
    stubApi({ [`GET /api/v1/stores/${ID}/revisions/1/diff/3`]: { body: { from: 1, to: 3, identical: true, diff: "" } } });
    renderWithClient(<RevisionDiff storeId={ID} from={1} to={3} />);
    expect(await screen.findByTestId("diff-identical")).toHaveTextContent("Revisions 1 and 3 are identical");
    expect(screen.queryByTestId("diff")).toBeNull();
  });

  it("says plainly when a manifest is no longer kept", async () => {
    stubApi({
      [`GET /api/v1/stores/${ID}/revisions/1/diff/12`]: {
        status: 409,
        body: { error: { code: "manifest_pruned", message: "the manifest of revision 1 is no longer kept (the last 10 are)" } },
      },
    });
    renderWithClient(<RevisionDiff storeId={ID} from={1} to={12} />);
    expect(await screen.findByRole("alert")).toHaveTextContent("the manifest of revision 1 is no longer kept (the last 10 are)");
  });
});
