import type { OwnedObject } from "@/lib/objects";

/** The Kubernetes objects the store owns, as its timeline tells. */
export function ObjectsTable({ objects, namespace }: { objects: readonly OwnedObject[]; namespace: string | undefined }) {
  // Namespaced objects are named `<namespace>/<name>`; the namespace is shown above.
  const short = (name: string) => (namespace && name.startsWith(`${namespace}/`) ? name.slice(namespace.length + 1) : name);
  if (objects.length === 0) {
    return <p className="text-sm text-muted-foreground">No objects in the cluster.</p>;
  }
  return (
    <div className="overflow-x-auto">
      <table className="w-full text-sm" data-testid="objects">
        <caption className="sr-only">Kubernetes objects owned by this store</caption>
        <thead>
          <tr className="text-left text-xs text-muted-foreground uppercase tracking-wide">
            <th scope="col" className="py-1.5 pr-3 font-medium">Kind</th>
            <th scope="col" className="py-1.5 pr-3 font-medium">Name</th>
            <th scope="col" className="py-1.5 font-medium">Last apply</th>
          </tr>
        </thead>
        <tbody className="divide-y">
          {objects.map((o) => (
            <tr key={`${o.kind}/${o.name}`}>
              <td className="py-1.5 pr-3 whitespace-nowrap">{o.kind}</td>
              <td className="py-1.5 pr-3 font-mono text-xs break-all">{short(o.name)}</td>
              <td className="py-1.5 text-muted-foreground">{o.outcome}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
