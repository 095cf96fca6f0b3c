/**
 * The name of a run's report file, apart from the code that renders it (which a program loads
 * only when a run writes its report).
 * @module
 */

/** The run report's file name in the run's folder. */
export const reportFileName = "report.html";
