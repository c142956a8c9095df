/** Public surface of the data layer (import from here outside src/data). */
export { checkDataset, classCounts, row, subset, type Dataset, type Split } from './dataset.ts';
export { loadMnist10k, MNIST10K_D, MNIST10K_N, MNIST10K_SIDE } from './mnist10k.ts';
export { checkSplit, stratifiedSample, stratifiedSplit, type SplitOptions } from './split.ts';
export { IDX_TYPES, parseIdx, readIdx, type IdxArray, type IdxFile, type IdxType } from './idx.ts';
export { idxToDataset, loadIdxDataset, type IdxDatasetOptions, type IdxSource } from './idx-dataset.ts';
export { IDX_FILE_NAMES, loadIdxDir, loadMnistIdx, type TrainTest } from './idx-dir.ts';
export { FASHION_CLASS_NAMES, FASHION_DIR, fashionAvailable, loadFashion } from './fashion.ts';
export { gaussianMixture, teacherNetwork, type MixtureOptions, type TeacherOptions } from './synthetic.ts';
export { checkDatasetSpec, loadDataset, type DatasetSpec, type LoadedData } from './registry.ts';
