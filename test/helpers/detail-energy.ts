import sharp from 'sharp';

/**
 * Mean squared Laplacian of the grey picture: the energy of its fine detail, which a blur
 * removes. The safety tests compare a blurred output with an unblurred one by it.
 */
export async function detailEnergy(bytes: Buffer): Promise<number> {
  const { data, info } = await sharp(bytes).greyscale().raw().toBuffer({ resolveWithObject: true });
  const { width, height } = info;
  let sum = 0;
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const i = y * width + x;
      const laplacian = 4 * data[i]! - data[i - 1]! - data[i + 1]! - data[i - width]! - data[i + width]!;
      sum += laplacian * laplacian;
    }
  }
  return sum / ((width - 2) * (height - 2));
}
