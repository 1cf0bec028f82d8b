import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { CredentialsDialog } from "./credentials-dialog";

const credentials = { username: "admin", password: "s3cret-Pa55", admin_url: "http://acme.example/wp-admin/" };

describe("the credentials dialog", () => {
  it("shows the username and password with copy buttons", () => {
    render(<CredentialsDialog open credentials={credentials} error={null} onClose={() => {}} />);
    expect(screen.getByTestId("secret-username")).toHaveTextContent("admin");
    expect(screen.getByTestId("secret-password")).toHaveTextContent("s3cret-Pa55");
    expect(screen.getByRole("button", { name: "Copy username" })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Copy password" })).toBeInTheDocument();
  });

  it("cannot be closed until the user says they saved the credentials", async () => {
    const onClose = vi.fn();
    render(<CredentialsDialog open credentials={credentials} error={null} onClose={onClose} />);
    const done = screen.getByRole("button", { name: "Done" });
    expect(done).toBeDisabled();
    expect(screen.queryByRole("button", { name: "Close" })).toBeNull();
    await userEvent.keyboard("{Escape}");
    expect(onClose).not.toHaveBeenCalled();
    expect(screen.getByRole("dialog")).toBeInTheDocument();

    await userEvent.click(screen.getByRole("checkbox", { name: "I have saved these" }));
    expect(done).toBeEnabled();
    await userEvent.click(done);
    expect(onClose).toHaveBeenCalledOnce();
  });

  it("says why when the credentials cannot be revealed, and lets the user close it", async () => {
    const onClose = vi.fn();
    render(
      <CredentialsDialog
        open
        credentials={undefined}
        error="the admin credentials of acme were already revealed"
        onClose={onClose}
      />,
    );
    expect(screen.getByRole("alert")).toHaveTextContent("already revealed");
    await userEvent.keyboard("{Escape}");
    expect(onClose).toHaveBeenCalled();
  });
});
