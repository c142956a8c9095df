/**
 * Fashion-MNIST (Xiao et al. 2017) from Debian's `dataset-fashion-mnist` package, which
 * installs the four standard gzipped IDX files in /usr/share/datasets/fashion-mnist.
 * Uses the dataset's own split: 60,000 train / 10,000 test, each in file order.
 */
import { findIdxFiles, loadIdxDir, type TrainTest } from './idx-dir.ts';
import { isNode } from './platform.ts';

export const FASHION_DIR = '/usr/share/datasets/fashion-mnist';

/** The dataset's fixed split (Xiao et al. 2017), known before any file is read. */
export const FASHION_SIZES = { train: 60_000, test: 10_000 } as const;

export const FASHION_CLASS_NAMES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

/** True when the Debian package's files are all present (Node only; false in the browser). */
export function fashionAvailable(dir = FASHION_DIR): boolean {
  return isNode() && findIdxFiles(dir).missing.length === 0;
}

/** Load from `dir` (Node) or from the four IDX File objects (browser). */
export async function loadFashion(dirOrFiles: string | File[] = FASHION_DIR): Promise<TrainTest> {
  if (typeof dirOrFiles === 'string') {
    if (!isNode()) {
      throw new Error('Fashion-MNIST: reading a directory needs Node; in the browser pass the four IDX files as File objects');
    }
    const { missing } = findIdxFiles(dirOrFiles);
    if (missing.length) {
      throw new Error(
        `Fashion-MNIST not found in ${dirOrFiles} (missing ${missing.join(', ')}); ` +
          `install it with \`apt-get install dataset-fashion-mnist\` (puts the files in ${FASHION_DIR}) or pass the directory holding the four IDX files`,
      );
    }
  }
  return loadIdxDir(dirOrFiles, { name: 'fashion', classes: 10, classNames: FASHION_CLASS_NAMES });
}
