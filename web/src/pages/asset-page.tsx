/** Placeholder: one image or video with its parameters and actions. */
export function AssetPage({ id }: { id: string }) {
  return <h1>Image {id}</h1>;
}
